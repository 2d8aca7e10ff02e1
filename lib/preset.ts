import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { type Answers, type OptionSpec, options, parseOptionValue, REPOSITORY_REGISTRY } from '../core/options.js';
import { UsageError } from './errors.js';
import { VERIFIERS } from './check/verifiers.js';
import { supportedKubernetesMinors } from './check/kubernetes-api.js';
import { versions } from '../core/versions.js';

/**
 * Organisation presets: a platform team's defaults, locked answers and constraints for every service it
 * hands out. A preset is data (JSON or YAML), read from a file or from an installed npm package, validated
 * field by field, and recorded in the service's manifest (content, not path) so that `upgrade` and `check`
 * apply the same rules later, offline.
 */

/** Scanners a preset can require of the emitted CI, and how each is recognised in a pipeline file. */
export const SCANNERS: Record<string, { description: string; pattern: RegExp }> = {
  trivy: { description: 'Trivy (dependencies, config, image)', pattern: /\btrivy\b/ },
  gitleaks: { description: 'gitleaks (secrets in history)', pattern: /\bgitleaks\b/ },
  hadolint: { description: 'hadolint (Dockerfile lint)', pattern: /\bhadolint\b/ },
  kubeconform: { description: 'kubeconform (manifest schema)', pattern: /\bkubeconform\b/ },
  'kube-linter': { description: 'kube-linter (manifest lint)', pattern: /\bkube-linter\b/ },
  codeql: { description: 'CodeQL (GitHub only)', pattern: /github\/codeql-action\/analyze@/ },
  sast: { description: 'static analysis: CodeQL on GitHub, GitLab SAST on GitLab', pattern: /github\/codeql-action\/analyze@|Jobs\/SAST\.gitlab-ci\.yml/ },
  'dependency-review': { description: 'dependency review on pull requests (GitHub only)', pattern: /actions\/dependency-review-action@/ },
  scorecard: { description: 'OpenSSF Scorecard (GitHub only)', pattern: /ossf\/scorecard-action@/ },
  cosign: { description: 'cosign image signing', pattern: /\bcosign sign\b/ },
  'hardened-service-check': { description: 'create-hardened-service check', pattern: /create-hardened-service(?:@\S+)?\s+check\b/ },
};

export interface PresetConstraints {
  /** Image name prefixes the service's image and every pod image must start with (e.g. `ghcr.io/acme/`). */
  allowedRegistries?: string[];
  /** Lowest Node.js major the service may use. */
  minNodeVersion?: number;
  /** Ceiling for every container's memory limit (Kubernetes quantity, e.g. `512Mi`). */
  maxMemoryLimit?: string;
  /** Scanners the CI must run (keys of SCANNERS). */
  requiredScanners?: string[];
  /** Oldest Kubernetes minor the organisation's clusters run (`1.36`): `check` audits against at least it. */
  minKubernetesVersion?: string;
  /** Signature verifiers whose policy (verify/) the service must keep, with the pipeline's identity (keys of VERIFIERS). */
  requiredVerifiers?: string[];
}

/** A validated preset, normalised: defaults and locks keyed by option key, values parsed. */
export interface Preset {
  /** Where it came from: a file path or `package:<name>`. For messages only. */
  source: string;
  name?: string;
  description?: string;
  defaults: Partial<Record<keyof Answers, string | number>>;
  locks: Partial<Record<keyof Answers, string | number>>;
  constraints: PresetConstraints;
}

const TOP_LEVEL = ['name', 'description', 'defaults', 'locks', 'constraints'];
const CONSTRAINTS = ['allowedRegistries', 'minNodeVersion', 'maxMemoryLimit', 'requiredScanners', 'minKubernetesVersion', 'requiredVerifiers'];

/** Kubernetes quantity → bytes (binary and decimal suffixes), or undefined when it is not one. */
export function quantityToNumber(text: unknown): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?$/.exec(String(text ?? '').trim());
  if (!m) return undefined;
  const factor: Record<string, number> = {
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
    k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3,
  };
  return Number(m[1]) * (m[2] ? factor[m[2]]! : 1);
}

function optionFor(name: string): OptionSpec | undefined {
  return options.find((o) => o.key === name || o.flag === name);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Placeholders `{name}`, `{owner}`... in string defaults: replaced by earlier answers (see applyPlaceholders). */
const PLACEHOLDER = /\{([a-zA-Z][\w-]*)\}/g;
const HAS_PLACEHOLDER = /\{[a-zA-Z][\w-]*\}/;

/** Validates parsed preset content; returns the preset or every problem, one line per bad field. */
export function validatePreset(content: unknown, source: string): { preset: Preset } | { errors: string[] } {
  const errors: string[] = [];
  if (!isObject(content)) return { errors: ['the preset must be a mapping with defaults, locks and/or constraints'] };
  for (const key of Object.keys(content)) {
    if (!TOP_LEVEL.includes(key)) errors.push(`${key}: unknown field: use ${TOP_LEVEL.join(', ')}`);
  }
  const preset: Preset = { source, defaults: {}, locks: {}, constraints: {} };
  for (const field of ['name', 'description'] as const) {
    const v = content[field];
    if (v === undefined) continue;
    if (typeof v !== 'string') errors.push(`${field}: ${describe(v)} is not a string`);
    else preset[field] = v;
  }

  for (const section of ['defaults', 'locks'] as const) {
    const raw = content[section];
    if (raw === undefined || raw === null) continue;
    if (!isObject(raw)) {
      errors.push(`${section}: must be a mapping of option to value, e.g. ${section}: { ci: github }`);
      continue;
    }
    for (const [name, value] of Object.entries(raw)) {
      const where = `${section}.${name}`;
      const option = optionFor(name);
      if (!option) {
        errors.push(`${where}: unknown option: use one of ${options.map((o) => o.key).join(', ')}`);
        continue;
      }
      if (typeof value !== 'string' && typeof value !== 'number') {
        errors.push(`${where}: ${describe(value)} is not a ${option.type === 'integer' ? 'number' : 'string'}`);
        continue;
      }
      const key = option.key as keyof Answers;
      if (preset.defaults[key] !== undefined || preset.locks[key] !== undefined) {
        errors.push(`${where}: ${option.key} is set twice (a lock is also the default): keep it in one place`);
        continue;
      }
      // Placeholders refer to earlier answers: checked for names here, validated once replaced.
      if (section === 'defaults' && typeof value === 'string' && HAS_PLACEHOLDER.test(value)) {
        const index = options.indexOf(option);
        for (const [, ref] of value.matchAll(PLACEHOLDER)) {
          const earlier = optionFor(ref!);
          if (!earlier || options.indexOf(earlier) >= index) {
            errors.push(`${where}: placeholder {${ref}} is not an option answered before ${option.key}: use one of ${options.slice(0, index).map((o) => `{${o.key}}`).join(', ')}`);
          }
        }
        preset.defaults[key] = value;
        continue;
      }
      const parsed = parseOptionValue(option, value);
      if ('error' in parsed) errors.push(`${where}: ${parsed.error}`);
      else preset[section][key] = parsed.value;
    }
  }

  const rawConstraints = content.constraints;
  if (rawConstraints !== undefined && rawConstraints !== null) {
    if (!isObject(rawConstraints)) errors.push('constraints: must be a mapping, e.g. constraints: { minNodeVersion: 24 }');
    else {
      const c = preset.constraints;
      for (const key of Object.keys(rawConstraints)) {
        if (!CONSTRAINTS.includes(key)) errors.push(`constraints.${key}: unknown constraint: use ${CONSTRAINTS.join(', ')}`);
      }
      const registries = rawConstraints.allowedRegistries;
      if (registries !== undefined) {
        if (!Array.isArray(registries) || registries.length === 0) {
          errors.push('constraints.allowedRegistries: must be a non-empty list of image prefixes, e.g. [ghcr.io/acme/]');
        } else {
          registries.forEach((r, i) => {
            if (typeof r !== 'string' || !/^[a-z0-9][a-z0-9.:_/-]*$/.test(r)) {
              errors.push(`constraints.allowedRegistries[${i}]: ${describe(r)} is not an image prefix: use lowercase [registry/]path, e.g. ghcr.io/acme/`);
            }
          });
          c.allowedRegistries = registries.map(String);
        }
      }
      const min = rawConstraints.minNodeVersion;
      if (min !== undefined) {
        const majors = versions.node.lines.map((l) => l.major);
        if (typeof min !== 'number' || !Number.isInteger(min)) errors.push(`constraints.minNodeVersion: ${describe(min)} is not a whole number, e.g. 24`);
        else if (min > Math.max(...majors)) {
          errors.push(`constraints.minNodeVersion: ${min} is above every Node line this generator supports (${majors.join(', ')}): lower it`);
        } else c.minNodeVersion = min;
      }
      const minKube = rawConstraints.minKubernetesVersion;
      if (minKube !== undefined) {
        // A YAML 1.30 is the number 1.3: only a quoted minor says which one is meant.
        if (typeof minKube !== 'string') errors.push(`constraints.minKubernetesVersion: ${describe(minKube)} must be a quoted minor, e.g. "1.36"`);
        else if (!supportedKubernetesMinors.includes(minKube.replace(/^v/, ''))) {
          errors.push(`constraints.minKubernetesVersion: ${describe(minKube)} is not a Kubernetes minor check supports (${supportedKubernetesMinors.join(', ')})`);
        } else c.minKubernetesVersion = minKube.replace(/^v/, '');
      }
      const maxMemory = rawConstraints.maxMemoryLimit;
      if (maxMemory !== undefined) {
        if (typeof maxMemory !== 'string' || quantityToNumber(maxMemory) === undefined) {
          errors.push(`constraints.maxMemoryLimit: ${describe(maxMemory)} is not a Kubernetes quantity: use e.g. "512Mi" or "1Gi"`);
        } else c.maxMemoryLimit = maxMemory;
      }
      const scanners = rawConstraints.requiredScanners;
      if (scanners !== undefined) {
        if (!Array.isArray(scanners)) errors.push(`constraints.requiredScanners: must be a list, e.g. [trivy, gitleaks]`);
        else {
          scanners.forEach((s, i) => {
            if (typeof s !== 'string' || !SCANNERS[s]) {
              errors.push(`constraints.requiredScanners[${i}]: ${describe(s)} is not a known scanner: use ${Object.keys(SCANNERS).join(', ')}`);
            }
          });
          c.requiredScanners = scanners.map(String);
        }
      }
      const verifiers = rawConstraints.requiredVerifiers;
      if (verifiers !== undefined) {
        if (!Array.isArray(verifiers)) errors.push(`constraints.requiredVerifiers: must be a list, e.g. [${Object.keys(VERIFIERS)[0]}]`);
        else {
          verifiers.forEach((v, i) => {
            if (typeof v !== 'string' || !VERIFIERS[v]) {
              errors.push(`constraints.requiredVerifiers[${i}]: ${describe(v)} is not a known verifier: use ${Object.keys(VERIFIERS).join(', ')}`);
            }
          });
          c.requiredVerifiers = verifiers.map(String);
        }
      }
    }
  }

  // Locks must satisfy the preset's own constraints.
  if (errors.length === 0) {
    for (const problem of answerConstraintProblems(preset, preset.locks)) errors.push(`locks.${problem.key}: ${problem.message}`);
    for (const problem of answerConstraintProblems(preset, preset.defaults)) {
      if (typeof preset.defaults[problem.key] === 'string' && HAS_PLACEHOLDER.test(String(preset.defaults[problem.key]))) continue;
      errors.push(`defaults.${problem.key}: ${problem.message}`);
    }
  }
  return errors.length ? { errors } : { preset };
}

/** Answers (complete or partial) that break the preset's constraints on answers: registry and Node line. */
export function answerConstraintProblems(
  preset: Preset,
  answers: Partial<Record<keyof Answers, string | number>>,
): { key: keyof Answers; flag: string; message: string }[] {
  const problems: { key: keyof Answers; flag: string; message: string }[] = [];
  const { allowedRegistries, minNodeVersion } = preset.constraints;
  const image = answers.image;
  if (allowedRegistries && image === REPOSITORY_REGISTRY) {
    // A name known only at run time cannot be held to the list (core/image.ts).
    problems.push({ key: 'image', flag: 'image', message: `no image is named (the default: the CI repository's registry, known only at run time), and images must come from an allowed registry (${allowedRegistries.join(', ')})` });
  } else if (allowedRegistries && typeof image === 'string' && !allowedRegistries.some((p) => image.startsWith(p))) {
    problems.push({ key: 'image', flag: 'image', message: `image "${image}" is not in an allowed registry (${allowedRegistries.join(', ')})` });
  }
  const node = answers.nodeVersion;
  if (minNodeVersion !== undefined && typeof node === 'number' && node < minNodeVersion) {
    problems.push({ key: 'nodeVersion', flag: 'node-version', message: `Node ${node} is below the minimum Node line ${minNodeVersion}` });
  }
  return problems;
}

/** Replaces `{key}` placeholders in a preset default with the answers given before it. */
export function applyPlaceholders(value: string | number, earlier: Partial<Answers>): string | number {
  if (typeof value !== 'string') return value;
  return value.replace(PLACEHOLDER, (_, ref: string) => String((earlier as Record<string, unknown>)[optionFor(ref)?.key ?? ref] ?? ''));
}

/** The preset's label in messages: `preset acme.yaml`, `preset @acme/preset`. */
export function presetLabel(preset: Pick<Preset, 'source'>): string {
  return `preset ${preset.source}`;
}

function throwProblems(label: string, errors: string[]): never {
  throw new UsageError(errors.map((e) => `${label}: ${e}`).join('\n'));
}

/** yaml is loaded only when a preset is used, so plain generations do not pay for it. */
async function parseYaml(text: string): Promise<unknown> {
  const yaml = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
  // The bundle may hand the CommonJS build over as a default export.
  return (yaml.parse ?? yaml.default!.parse)(text, { prettyErrors: false });
}

async function parseContent(text: string, file: string, label: string): Promise<unknown> {
  const ext = extname(file).toLowerCase();
  try {
    return ext === '.json' ? JSON.parse(text) : (await parseYaml(text));
  } catch (err) {
    throwProblems(label, [`is not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`]);
  }
}

const PRESET_EXTENSIONS = ['.json', '.yaml', '.yml'];

/** The variable a platform team sets in CI to pin the preset `check` (and `upgrade`) enforce, when --preset is not given. */
export const ORG_PRESET_ENV = 'CREATE_HARDENED_SERVICE_PRESET';

/** Finds the preset file of an installed npm package, resolved from `cwd` like `require` would. */
function packagePresetFile(name: string, cwd: string): string {
  const label = `preset ${name}`;
  const require = createRequire(join(cwd, 'noop.js'));
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${name}/package.json`);
  } catch {
    throwProblems(label, [`no such file, and no installed npm package of that name from ${cwd}: give a path to a .yaml/.json file, or npm install the package`]);
  }
  return presetFileOfPackage(manifestPath, label);
}

/** The preset file a package's package.json names (`create-hardened-service-preset`, or `main`). */
function presetFileOfPackage(manifestPath: string, label: string): string {
  const pkg = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  const field = pkg['create-hardened-service-preset'] ?? pkg.main;
  if (typeof field !== 'string') {
    throwProblems(label, ['the package names no preset: set "create-hardened-service-preset" (or "main") in its package.json to a .yaml or .json file']);
  }
  if (!PRESET_EXTENSIONS.includes(extname(field).toLowerCase())) {
    throwProblems(label, [`the package points to ${field}: point "create-hardened-service-preset" at a .yaml or .json file (presets are data, not code)`]);
  }
  return join(dirname(manifestPath), field);
}

/** Loads and validates `--preset <path-or-package>`. Every problem is reported, one line each. */
export async function loadPreset(spec: string, cwd: string): Promise<Preset> {
  const path = resolve(cwd, spec);
  const looksLikePath = isAbsolute(spec) || spec.startsWith('.') || PRESET_EXTENSIONS.includes(extname(spec).toLowerCase());
  let file: string;
  let source: string;
  if (existsSync(join(path, 'package.json')) && statSync(path).isDirectory()) {
    // An installed package's folder (what CI's `npm install --prefix` of a pinned preset package leaves).
    file = presetFileOfPackage(join(path, 'package.json'), `preset ${spec}`);
    source = spec;
  } else if (existsSync(path) || (looksLikePath && !spec.startsWith('@'))) {
    file = path;
    source = spec;
  } else {
    file = packagePresetFile(spec, cwd);
    source = spec;
  }
  const label = `preset ${source}`;
  if (!PRESET_EXTENSIONS.includes(extname(file).toLowerCase())) {
    throwProblems(label, [`${basename(file)} is not a .yaml, .yml or .json file`]);
  }
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) throwProblems(label, [`cannot read ${file}: check the path`]);
  const result = validatePreset(await parseContent(text, file, label), source);
  if ('errors' in result) throwProblems(label, result.errors);
  return result.preset;
}

/** The preset as recorded in a manifest: what it was loaded from and its normalised content. */
export interface RecordedPreset {
  source: string;
  name?: string;
  description?: string;
  defaults: Partial<Record<string, string | number>>;
  locks: Partial<Record<string, string | number>>;
  constraints: PresetConstraints;
}

export function recordPreset(preset: Preset): RecordedPreset {
  return JSON.parse(JSON.stringify(preset)) as RecordedPreset;
}

/** Reads a preset back from a manifest, validating it again (a hand-edited manifest gets the same errors). */
export function presetFromRecord(record: RecordedPreset, where: string): Preset {
  const { source, ...content } = record;
  const result = validatePreset(content, source ?? where);
  if ('errors' in result) throwProblems(`preset recorded in ${where}`, result.errors);
  return result.preset;
}

/**
 * The preset's constraints on what the generator emits (not on answers): the chart's default memory limit
 * under the ceiling, and every required scanner in the emitted CI. Run on the rendered tree at create and
 * upgrade, so a preset that asks for something this generator cannot give fails before anything is written.
 */
export async function presetTreeProblems(preset: Preset, tree: Map<string, Buffer>): Promise<string[]> {
  const problems: string[] = [];
  const { maxMemoryLimit, requiredScanners } = preset.constraints;
  if (maxMemoryLimit) {
    const values = tree.get('chart/values.yaml');
    const limit = values ? ((await parseYaml(values.toString('utf8'))) as { resources?: { limits?: { memory?: unknown } } })?.resources?.limits?.memory : undefined;
    const bytes = quantityToNumber(limit);
    if (bytes !== undefined && bytes > quantityToNumber(maxMemoryLimit)!) {
      problems.push(`constraints.maxMemoryLimit: ${maxMemoryLimit} is below the chart's default memory limit ${String(limit)}: raise the ceiling`);
    }
  }
  if (requiredScanners) {
    const ci = [...tree].filter(([p]) => p.startsWith('.github/workflows/') || p === '.gitlab-ci.yml').map(([, b]) => b.toString('utf8')).join('\n');
    for (const scanner of requiredScanners) {
      if (!SCANNERS[scanner]?.pattern.test(ci)) {
        problems.push(`constraints.requiredScanners: the ${tree.has('.gitlab-ci.yml') ? 'GitLab' : 'GitHub'} pipeline this generator emits does not run ${scanner} (${SCANNERS[scanner]?.description}): choose another CI or drop the requirement`);
      }
    }
  }
  return problems;
}

/** Throws the tree problems as one usage error, one line each. */
export async function enforcePresetOnTree(preset: Preset, tree: Map<string, Buffer>): Promise<void> {
  const problems = await presetTreeProblems(preset, tree);
  if (problems.length) throwProblems(presetLabel(preset), problems);
}

/** JSON with object keys sorted: equal content gives equal text. */
export function sortedJson(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sorted(x)])) : v;
  return JSON.stringify(sorted(value)) ?? 'null';
}

/** The parts of a preset that are policy (not where it was loaded from). */
export const PRESET_SECTIONS = ['name', 'description', 'defaults', 'locks', 'constraints'] as const;
