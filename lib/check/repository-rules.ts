import { parse as parseYaml } from 'yaml';
import { type Preset, SCANNERS } from '../preset.js';
import { DIGEST_PATTERN, earlierStage, parseDockerfile, splitImageRef } from './dockerfile.js';
import { dockerignoreMatcher, MUST_IGNORE } from './dockerignore.js';
import type { FindingSink } from './findings.js';

type Obj = Record<string, unknown>;
function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

/**
 * Final-stage base images that count as distroless: Google's distroless, Chainguard's images and Docker
 * Hardened Images' runtime variants (their `-dev` variants have a shell and a package manager).
 */
const DISTROLESS_PREFIXES = ['gcr.io/distroless/', 'cgr.dev/chainguard/', 'dhi.io/'];
const isDevVariant = (ref: { name: string; tag?: string }) => ref.name.startsWith('dhi.io/') && /(^|-)dev$/.test(ref.tag ?? '');

/** Which base the generator's `--base` answer names a final image by: `distroless`, `dhi`, or neither. */
export function baseFamily(image: string): 'distroless' | 'dhi' | undefined {
  const ref = splitImageRef(image);
  if (ref.name.startsWith('gcr.io/distroless/')) return 'distroless';
  if (ref.name.startsWith('dhi.io/') && !isDevVariant(ref)) return 'dhi';
  return undefined;
}

/** The image the final stage is built on, followed back through stage references. */
export function finalBaseImage(text: string): string | undefined {
  const parsed = parseDockerfile(text);
  let index = parsed.stages.length - 1;
  if (index < 0) return undefined;
  for (let ref = earlierStage(parsed, index); ref; ref = earlierStage(parsed, index)) index = parsed.stages.indexOf(ref);
  return parsed.stages[index]!.image;
}

/** Node.js major of a base image, when its name says it (`nodejs26-debian13`, `node:24-…`). */
export function nodeMajorOfImage(image: string): number | undefined {
  const ref = splitImageRef(image);
  const distroless = /\/nodejs(\d+)(?:-|$)/.exec(ref.name);
  if (distroless) return Number(distroless[1]);
  if (/(^|\/)node$/.test(ref.name) && ref.tag) {
    const m = /^(\d+)/.exec(ref.tag);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** CHS-IMG-001, CHS-DKR-001, CHS-DKR-002 (and the Node line for CHS-PRE-003). Returns the final stage's Node major. */
export function checkDockerfile(text: string | undefined, file: string, sink: FindingSink): number | undefined {
  if (text === undefined) {
    for (const id of ['CHS-IMG-001', 'CHS-DKR-001', 'CHS-DKR-002'] as const) {
      sink.add({ ruleId: id, level: 'error', file, message: `${file} is missing: the service has no image definition to audit` });
    }
    return undefined;
  }
  const parsed = parseDockerfile(text);
  if (parsed.stages.length === 0) {
    sink.add({ ruleId: 'CHS-DKR-001', level: 'error', file, message: `${file} has no FROM instruction` });
    return undefined;
  }
  parsed.stages.forEach((stage, i) => {
    if (earlierStage(parsed, i) || stage.image.toLowerCase() === 'scratch') return;
    const ref = splitImageRef(stage.image);
    if (!ref.digest || !DIGEST_PATTERN.test(ref.digest)) {
      sink.add({ ruleId: 'CHS-IMG-001', level: 'error', file, line: stage.line, message: `FROM ${stage.image} is not pinned by digest` });
    }
  });

  // The final stage, followed back through stage references to its base image.
  const lastIndex = parsed.stages.length - 1;
  const final = parsed.stages[lastIndex]!;
  const chain = [final];
  let index = lastIndex;
  for (let ref = earlierStage(parsed, index); ref; ref = earlierStage(parsed, index)) {
    chain.push(ref);
    index = parsed.stages.indexOf(ref);
  }
  const base = chain[chain.length - 1]!;
  const baseName = splitImageRef(base.image).name;
  if (!DISTROLESS_PREFIXES.some((p) => baseName.startsWith(p)) || isDevVariant(splitImageRef(base.image))) {
    sink.add({
      ruleId: 'CHS-DKR-001',
      level: 'error',
      file,
      line: final.line,
      message: `the final stage${final.name ? ` (${final.name})` : ''} is based on ${base.image}, not a distroless image (${DISTROLESS_PREFIXES.join(', ')}; no DHI -dev variant)`,
    });
  }

  // The user the final stage runs as: its last USER, else inherited, else the base image's default.
  const lastUser = chain.flatMap((s) => [...s.users].reverse())[0];
  if (lastUser) {
    const user = lastUser.user.split(':')[0]!.trim();
    if (user === '' || user === 'root' || user === '0') {
      sink.add({ ruleId: 'CHS-DKR-002', level: 'error', file, line: lastUser.line, message: `the final stage runs as USER ${lastUser.user}` });
    } else if (!/^\d+$/.test(user)) {
      sink.add({ ruleId: 'CHS-DKR-002', level: 'warning', file, line: lastUser.line, message: `USER ${lastUser.user} is a name: Kubernetes cannot verify runAsNonRoot for it; use the numeric uid` });
    }
  } else {
    const tag = splitImageRef(base.image).tag ?? '';
    // DHI runtime images run as their non-root user (`run-as` in docker-hardened-images/catalog).
    const nonRootBase = /nonroot/.test(tag) || baseName.startsWith('cgr.dev/chainguard/') || baseName.startsWith('dhi.io/');
    if (!nonRootBase) {
      sink.add({ ruleId: 'CHS-DKR-002', level: 'error', file, line: final.line, message: `the final stage sets no USER and ${base.image} runs as root by default` });
    }
  }
  return nodeMajorOfImage(base.image);
}

/** CHS-DKR-003. */
export function checkDockerignore(text: string | undefined, sink: FindingSink): void {
  if (text === undefined) {
    sink.add({ ruleId: 'CHS-DKR-003', level: 'error', file: '.dockerignore', message: '.dockerignore is missing: the whole directory, .git and .env included, is sent to the build' });
    return;
  }
  const ignored = dockerignoreMatcher(text);
  const leaked = MUST_IGNORE.filter((m) => !ignored(m.path));
  if (leaked.length) {
    sink.add({
      ruleId: 'CHS-DKR-003',
      level: 'error',
      file: '.dockerignore',
      message: `.dockerignore lets into the build context: ${leaked.map((m) => `${m.what} (e.g. ${m.path})`).join('; ')}`,
    });
  }
}

function lineOf(text: string, pattern: RegExp, from = 0): number | undefined {
  const lines = text.split('\n');
  for (let i = from; i < lines.length; i++) if (pattern.test(lines[i]!)) return i + 1;
  return undefined;
}

const CHECK_COMMAND = /create-hardened-service(?:@\S+)?\s+check\b/;

/** CHS-CI-001..003 and CHS-PRE-005 over the service's CI files (path → text). */
export function checkCi(files: Map<string, string>, sink: FindingSink, preset: Preset | undefined): void {
  const workflows = [...files].filter(([p]) => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(p));
  const gitlab = files.get('.gitlab-ci.yml');
  let runsCheck = false;

  if (workflows.length === 0) {
    sink.skip('CHS-CI-002', 'no GitHub Actions workflows (GitLab CI has no token permissions in the pipeline file)');
    if (gitlab === undefined) sink.skip('CHS-CI-001', 'no CI configuration found');
  }
  for (const [path, text] of workflows) {
    // CHS-CI-001: every `uses:` (steps and reusable workflows).
    text.split('\n').forEach((line, i) => {
      const m = /^\s*(?:-\s+)?uses:\s*['"]?([^'"\s#]+)['"]?/.exec(line);
      if (!m) return;
      const uses = m[1]!;
      if (uses.startsWith('./')) return;
      if (uses.startsWith('docker://')) {
        if (!/@sha256:[0-9a-f]{64}$/.test(uses)) sink.add({ ruleId: 'CHS-CI-001', level: 'error', file: path, line: i + 1, message: `${uses} is not pinned by digest` });
        return;
      }
      const ref = uses.split('@')[1];
      if (!ref || !/^[0-9a-f]{40}$/.test(ref)) {
        sink.add({ ruleId: 'CHS-CI-001', level: 'error', file: path, line: i + 1, message: `${uses} is pinned by ${ref ? `"${ref}"` : 'nothing'}, not a 40-character commit SHA` });
      }
    });

    let workflow: Obj;
    try {
      workflow = obj(parseYaml(text));
    } catch (err) {
      sink.add({ ruleId: 'CHS-CI-002', level: 'error', file: path, message: `cannot parse the workflow: ${(err as Error).message.split('\n')[0]}` });
      continue;
    }
    // CHS-CI-002: top-level read-only; no job with write-all.
    const perms = workflow.permissions;
    const topLine = lineOf(text, /^permissions:/);
    if (perms === undefined) {
      sink.add({ ruleId: 'CHS-CI-002', level: 'error', file: path, message: 'no top-level permissions: the token gets the repository default, often write to everything' });
    } else if (typeof perms === 'string') {
      if (perms !== 'read-all') sink.add({ ruleId: 'CHS-CI-002', level: 'error', file: path, ...(topLine ? { line: topLine } : {}), message: `top-level permissions: ${perms}` });
    } else {
      const writes = Object.entries(obj(perms)).filter(([, level]) => level === 'write').map(([scope]) => scope);
      if (writes.length) {
        sink.add({ ruleId: 'CHS-CI-002', level: 'error', file: path, ...(topLine ? { line: topLine } : {}), message: `top-level permissions grant write to ${writes.join(', ')}: grant it on the job that needs it` });
      }
    }
    const on = workflow.on ?? workflow[true as unknown as string];
    const onPullRequest = typeof on === 'string' ? on === 'pull_request' : Array.isArray(on) ? on.includes('pull_request') : 'pull_request' in obj(on);
    for (const [id, job] of Object.entries(obj(workflow.jobs))) {
      const j = obj(job);
      if (j.permissions === 'write-all') {
        sink.add({ ruleId: 'CHS-CI-002', level: 'error', file: path, ...(lineOf(text, /permissions:\s*write-all/) ? { line: lineOf(text, /permissions:\s*write-all/)! } : {}), message: `job ${id} has permissions: write-all` });
      }
      const steps = Array.isArray(j.steps) ? j.steps.map(obj) : [];
      if (onPullRequest && j['continue-on-error'] !== true && steps.some((s) => typeof s.run === 'string' && CHECK_COMMAND.test(s.run) && s['continue-on-error'] !== true)) {
        runsCheck = true;
      }
    }
  }

  if (gitlab !== undefined) {
    let pipeline: Obj = {};
    try {
      pipeline = obj(parseYaml(gitlab, { merge: true }));
    } catch (err) {
      sink.add({ ruleId: 'CHS-CI-001', level: 'error', file: '.gitlab-ci.yml', message: `cannot parse .gitlab-ci.yml: ${(err as Error).message.split('\n')[0]}` });
    }
    // CHS-CI-001 on GitLab: included files from other projects pinned by commit SHA, remote ones by integrity.
    const includes = Array.isArray(pipeline.include) ? pipeline.include : pipeline.include ? [pipeline.include] : [];
    for (const inc of includes) {
      const i = typeof inc === 'string' ? { remote: inc.startsWith('http') ? inc : undefined, local: inc } : obj(inc);
      if (typeof i.project === 'string' && !/^[0-9a-f]{40}$/.test(String(i.ref ?? ''))) {
        sink.add({ ruleId: 'CHS-CI-001', level: 'error', file: '.gitlab-ci.yml', ...(lineOf(gitlab, /project:/) ? { line: lineOf(gitlab, /project:/)! } : {}), message: `include of ${i.project} is pinned by ${i.ref ? `"${String(i.ref)}"` : 'nothing'}, not a commit SHA` });
      }
      if (typeof i.remote === 'string' && typeof i.integrity !== 'string') {
        sink.add({ ruleId: 'CHS-CI-001', level: 'error', file: '.gitlab-ci.yml', message: `remote include ${i.remote} has no integrity hash` });
      }
    }
    for (const [, job] of Object.entries(pipeline)) {
      const j = obj(job);
      const script = Array.isArray(j.script) ? j.script.map(String).join('\n') : typeof j.script === 'string' ? j.script : '';
      if (CHECK_COMMAND.test(script) && j.allow_failure !== true) runsCheck = true;
    }
  }

  if (!runsCheck) {
    const file = workflows.length ? workflows.find(([p]) => /\/ci\.ya?ml$/.test(p))?.[0] ?? workflows[0]![0] : gitlab !== undefined ? '.gitlab-ci.yml' : '.github/workflows/ci.yml';
    sink.add({
      ruleId: 'CHS-CI-003',
      level: 'error',
      file,
      message:
        workflows.length || gitlab !== undefined
          ? 'no pull-request job runs `create-hardened-service check` as a gate (missing, or allowed to fail)'
          : 'no CI configuration (.github/workflows or .gitlab-ci.yml) runs `create-hardened-service check`',
    });
  }

  // CHS-PRE-005: every required scanner appears in some CI file.
  const required = preset?.constraints.requiredScanners;
  if (!required) sink.skip('CHS-PRE-005', preset ? 'the preset requires no scanners' : 'no preset');
  else {
    const all = [...workflows.map(([, t]) => t), gitlab ?? ''].join('\n');
    const ciFile = workflows.length ? '.github/workflows' : '.gitlab-ci.yml';
    for (const scanner of required) {
      if (!SCANNERS[scanner]!.pattern.test(all)) {
        sink.add({ ruleId: 'CHS-PRE-005', level: 'error', file: ciFile, message: `CI does not run ${scanner} (${SCANNERS[scanner]!.description}), which the preset requires` });
      }
    }
  }
}

/**
 * CHS-PRE-008: what the preset locks of the image is what the files build: the final stage's base (`base`), and
 * every platform (`platforms`) in the CI image builds (GitHub's matrix, GitLab's `--opt platform=`).
 */
export function checkPresetImage(preset: Preset, dockerfile: string | undefined, files: Map<string, string>, sink: FindingSink): void {
  const base = preset.locks.base as string | undefined;
  const platforms = preset.locks.platforms as string | undefined;
  if (base === undefined && platforms === undefined) {
    sink.skip('CHS-PRE-008', 'the preset locks neither base nor platforms');
    return;
  }
  if (base !== undefined && dockerfile !== undefined) {
    const image = finalBaseImage(dockerfile);
    const family = image ? baseFamily(image) : undefined;
    if (family !== base) {
      sink.add({ ruleId: 'CHS-PRE-008', level: 'error', file: 'Dockerfile', message: `the final stage is based on ${image ?? 'nothing'}, not the ${base} base the preset locks (--base ${base})` });
    }
  }
  if (platforms !== undefined) {
    const ci = [...files].filter(([p]) => p === '.gitlab-ci.yml' || /^\.github\/workflows\//.test(p));
    const text = ci.map(([, t]) => t).join('\n');
    for (const platform of platforms.split(',')) {
      const built = new RegExp(`(?:^\\s*-?\\s*platform: |--opt platform=)${platform.replace('/', '\\/')}(?=\\s|$)`, 'm').test(text);
      if (!built) {
        const file = ci.find(([p]) => p === '.gitlab-ci.yml')?.[0] ?? '.github/workflows/container.yml';
        sink.add({ ruleId: 'CHS-PRE-008', level: 'error', file, message: `CI builds no ${platform} image, which the preset locks (--platforms ${platforms})` });
      }
    }
  }
}
