import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubernetesTarget } from '../generators/features/kubernetes.js';
import { ciFacts, type KubeLinterCheck } from './support/ci-facts.js';
import { renderText } from './support/ci-workflows.js';
import { runCli, tempDir } from './support/cli.js';
import { hadolintFindings, kubeLinterOracles, parseDockerfile } from './support/default-rules.js';
import { helmTemplate, parseManifests, writeService } from './support/kubernetes.js';
import { answersFor } from './support/answers.js';

/**
 * The linters' default rule sets (data/ci-facts.json "defaultRules", read upstream at the pinned versions)
 * against a fresh service of every variant: each rule passes, or is excluded in the emitted configuration
 * with its reason. A rule added upstream (after a version bump) has no oracle here and fails until judged.
 */
const variants: Record<string, Record<string, string>> = {
  default: {},
  express: { framework: 'express' },
  'node-22': { nodeVersion: '22' },
  'node-24-gitlab': { nodeVersion: '24', ci: 'gitlab' },
};

/** What the pipelines lint: `helm template <name> chart` with the default values, plus deploy/namespace.yaml. */
async function renderedObjects(given: Record<string, string>) {
  const answers = await answersFor('my-svc', given);
  const { dir } = await writeService(answers);
  const rendered = await helmTemplate(join(dir, 'chart'), {}, { release: answers.name, namespace: answers.name, kubeVersion: kubernetesTarget().helmKubeVersion });
  expect(rendered.exitCode, rendered.stderr).toBe(0);
  return [...parseManifests(rendered.stdout), ...parseManifests(await readFile(join(dir, 'deploy', 'namespace.yaml'), 'utf8'))];
}

/** Each list item of a YAML block with the comment lines right above it. */
function commentedItems(text: string, key: string): Map<string, string> {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `${key}:`);
  const items = new Map<string, string>();
  let comment: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\s*#/.test(line)) comment.push(line.replace(/^\s*#\s?/, ''));
    else if (/^\s+- /.test(line)) {
      items.set(line.replace(/^\s+- /, '').trim(), comment.join(' '));
      comment = [];
    } else break;
  }
  return items;
}

describe('kube-linter default checks (v0.8.3) on the rendered chart and namespace', () => {
  const { checks } = ciFacts.defaultRules['kube-linter'];

  it('the data lists the default checks with their status, and .kube-linter.yaml excludes exactly the excluded ones, each with its reason', async () => {
    expect(checks.length).toBe(31);
    const config = (await renderText()).get('.kube-linter.yaml')!;
    const excluded = commentedItems(config, 'exclude');
    expect([...excluded.keys()].sort()).toEqual(checks.filter((c) => c.status === 'excluded').map((c) => c.name).sort());
    for (const [name, reason] of excluded) expect(reason.length, `${name}: the reason above it`).toBeGreaterThan(60);
    const parsed = parse(config) as { checks: { exclude: string[]; doNotAutoAddDefaults?: boolean; addAllBuiltIn?: boolean } };
    expect(parsed.checks.doNotAutoAddDefaults).toBeUndefined();
  });

  it.each(Object.keys(variants))('every check passes or is excluded with its reason (%s)', async (variant) => {
    const objects = await renderedObjects(variants[variant]!);
    expect(objects.some((o) => o.kind === 'Deployment')).toBe(true);
    for (const check of checks) {
      const oracle = kubeLinterOracles[check.name];
      expect(oracle, `${check.name}: no oracle; read its template upstream and write one`).toBeDefined();
      const findings = oracle!(objects, check);
      if (check.status === 'pass') expect(findings, `${check.name} (${check.reason})`).toEqual([]);
      // An exclusion is only there because the check would trip: the record says why.
      else expect(findings.length, `${check.name} is excluded but would not trip`).toBeGreaterThan(0);
    }
  });

  it('the custom check that replaces env-var-secret passes, and would flag a secret value', async () => {
    const config = parse((await renderText()).get('.kube-linter.yaml')!) as { customChecks: KubeLinterCheck[] };
    const custom = config.customChecks.find((c) => c.name === 'env-var-secret-value')!;
    expect(custom.template).toBe('env-var');
    const objects = await renderedObjects({});
    expect(kubeLinterOracles['env-var-secret']!(objects, custom)).toEqual([]);
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    deployment.spec.template.spec.containers[0].env.push({ name: 'API_SECRET', value: 'hunter2' });
    expect(kubeLinterOracles['env-var-secret']!(objects, custom)).toEqual([expect.stringContaining('API_SECRET=hunter2')]);
  });
});

describe('hadolint default rules on the Dockerfile (v2.14.0 in hadolint-action on GitHub, v2.15.1 on GitLab)', () => {
  const sets = [ciFacts.defaultRules['hadolint-github'], ciFacts.defaultRules['hadolint-gitlab']];

  it('the data lists every rule wired in upstream, each with what it looks at', () => {
    expect(sets.map((s) => s.rules.length)).toEqual([66, 71]);
    for (const set of sets) {
      for (const rule of set.rules) {
        expect(rule.run ?? rule.instruction ?? rule.config ?? rule.note ?? rule.evaluated, rule.code).toBeTruthy();
        expect(rule.status, rule.code).toBe('pass');
      }
    }
  });

  it.each(Object.keys(variants))('every rule passes (%s)', async (variant) => {
    const dockerfile = parseDockerfile((await renderText(variants[variant]!)).get('Dockerfile')!);
    expect(dockerfile.runScripts.length).toBeGreaterThan(0);
    for (const set of sets) {
      for (const rule of set.rules) expect(hadolintFindings(rule, dockerfile), `${set.version} ${rule.code}`).toEqual([]);
    }
  });

  it.each(Object.keys(variants))('ShellCheck, as hadolint runs it on every RUN, finds nothing (%s)', async (variant) => {
    const text = (await renderText(variants[variant]!)).get('Dockerfile')!;
    const dockerfile = parseDockerfile(text);
    // As src/Hadolint/Shell.hs builds it: the shell's shebang, ARG/ENV names exported, then the RUN text.
    const names = dockerfile.instructions
      .filter((i) => ['ARG', 'ENV'].includes(i.getKeyword()))
      .flatMap((i) => [...(i.getArgumentsContent() ?? '').matchAll(/(?:^|\s)(\w+)(?==|\s|$)/g)].map((m) => m[1]!));
    for (const script of dockerfile.runScripts) {
      const input = `#!/bin/sh\n${names.map((n) => `export ${n}=1\n`).join('')}${script}\n`;
      const exclude = ciFacts.defaultRules['hadolint-gitlab'].shellcheck.exclude.map((c) => c.replace('SC', '')).join(',');
      const result = await execa('shellcheck', ['--exclude', exclude, '--format', 'gcc', '-'], { input, reject: false });
      expect(result.stdout, `RUN ${script}`).toBe('');
    }
  });

  it('the oracles are real: a Dockerfile that breaks rules is reported', () => {
    const bad = parseDockerfile('FROM node:latest AS context\nUSER root\nENV API_TOKEN=x\nRUN cd /tmp | cat\nRUN apt-get install curl\nCMD node server.js\n');
    const codes = sets[1]!.rules.filter((r) => hadolintFindings(r, bad).length > 0).map((r) => r.code);
    expect(codes).toEqual(expect.arrayContaining(['DL3002', 'DL3003', 'DL3007', 'DL3008', 'DL3025', 'DL3059', 'DL3063', 'DL3064', 'DL4006']));
  });
});

describe('gitleaks default rules (v8.30.1) over a fresh service', () => {
  const rule = ciFacts.defaultRules.gitleaks.evaluated['generic-api-key']!;
  /** gitleaks.toml's RE2 in JS: `(?i)` becomes the flag, `(?-i:` groups turn case-insensitive (slightly wider), `\z` is `$`. */
  const js = (re: string, flags: string) => new RegExp(re.replace(/^\(\?i\)/, '').replace(/\(\?-i:/g, '(?:').replace(/\\z/g, '$'), flags);
  const pattern = js(rule.regex, 'gi');
  const allowSecret = js(rule.allowlist.secret, '');
  const allowMatch = js(rule.allowlist.match, 'i');
  const entropy = (s: string) => {
    const counts = new Map<string, number>();
    for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
    return -[...counts.values()].reduce((sum, n) => sum + (n / s.length) * Math.log2(n / s.length), 0);
  };

  it.each(['github', 'gitlab'])('generic-api-key trips only on lines .gitleaks.toml allowlists, with its reason (%s)', async (ci) => {
    const parent = await tempDir();
    expect((await runCli(['my-svc', '--yes', '--ci', ci], { cwd: parent })).exitCode).toBe(0);
    const dir = join(parent, 'my-svc');
    const config = await readFile(join(dir, '.gitleaks.toml'), 'utf8');
    expect(config).toMatch(/^\[extend\]\nuseDefault = true$/m);
    const allow = {
      path: new RegExp(/^paths = \['''(.*)'''\]$/m.exec(config)![1]!),
      line: new RegExp(/^regexes = \['''(.*)'''\]$/m.exec(config)![1]!),
    };
    const files = (await execa('find', ['.', '-type', 'f'], { cwd: dir })).stdout.split('\n').map((f) => f.slice(2));
    const tripped: { file: string; line: string }[] = [];
    for (const file of files.filter((f) => !/(^|\/)(package-lock\.json|node_modules\/.*)$/.test(f))) {
      const text = await readFile(join(dir, file), 'utf8');
      for (const line of text.split('\n')) {
        for (const m of line.matchAll(pattern)) {
          const secret = m[1]!;
          if (entropy(secret) > rule.entropy && !allowSecret.test(secret) && !allowMatch.test(m[0])) tripped.push({ file, line });
        }
      }
    }
    // The manifest's file hashes are what trips it (hence the allowlist), and nothing else does.
    expect(tripped.some((t) => t.file === '.hardened-service.json')).toBe(true);
    for (const t of tripped) expect(allow.path.test(t.file) && allow.line.test(t.line), `${t.file}: ${t.line}`).toBe(true);
    expect(config).toMatch(/description = """[\s\S]*sha256[\s\S]*"""/);
  });
});
