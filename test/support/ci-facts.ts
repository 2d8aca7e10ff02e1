import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../core/package-root.js';
import { parseWorkflow } from './ci-workflows.js';

/** data/ci-facts.json: what the emitted pipelines rely on upstream, each fact with its source. */
export interface Release {
  version: string;
  commit: string;
  asset: string;
  archiveMember: string | null;
  checksum: { url: string; format: string } | null;
  signature?: { url: string; format: string; key: string };
  /** The asset's sha256 as upstream published it, when the release has no checksum file to download. */
  sha256?: string;
  source: string;
}
export interface ImageFacts {
  tags?: string[];
  base: string;
  shell: 'bash' | 'sh';
  entrypoint: string[] | null;
  /** The entrypoint runs the command it is given (a shell wrapper), so GitLab's script reaches a shell. */
  entrypointRunsCommand: boolean;
  commands: Record<string, string>;
  /** Commands that are in the image but not on PATH: call them by their absolute path. */
  offPath?: string[];
  absent: string[];
  readAt?: string;
  readAtReason?: string;
  source: string;
}
export interface ActionFacts {
  version: string;
  readAt: string;
  readAtReason?: string;
  runs: string;
  inputs: string[];
  required: string[];
  deprecated?: Record<string, string>;
  source: string;
}
export interface KubeLinterCheck {
  name: string;
  template: string;
  params?: Record<string, unknown>;
  objectKinds: string[];
  status: 'pass' | 'excluded';
  reason: string;
}
export interface HadolintRule {
  code: string;
  severity: string;
  run?: string[];
  instruction?: string;
  config?: string;
  note?: string;
  evaluated?: string;
  status: 'pass' | 'excluded';
}
export interface HadolintRules {
  version: string;
  commit: string;
  failureThreshold: string;
  source: string;
  usedBy: string;
  rules: HadolintRule[];
  shellcheck: { exclude: string[]; shell: string; status: string };
}
/** A database or Redis image the test jobs start as a service container. */
export interface ServiceImageFacts {
  port: number;
  /** Variables its entrypoint reads, with what they do. */
  env: Record<string, string>;
  commands: Record<string, string>;
  readAt?: string;
  readAtReason?: string;
  source: string;
}
export interface CiFacts {
  checked: string;
  releases: Record<string, Release>;
  images: Record<string, ImageFacts>;
  serviceImages: Record<string, ServiceImageFacts>;
  bases: Record<string, { commands: string[]; absent: string[]; source: string }>;
  actions: Record<string, ActionFacts>;
  defaultRules: {
    'kube-linter': { version: string; commit: string; source: string; checks: KubeLinterCheck[] };
    'hadolint-github': HadolintRules;
    'hadolint-gitlab': HadolintRules;
    gitleaks: {
      version: string;
      commit: string;
      source: string;
      rules: number;
      evaluated: Record<string, { regex: string; entropy: number; allowlist: { secret: string; match: string }; status: string; reason: string }>;
      others: string;
    };
  };
}

export const ciFacts: CiFacts = JSON.parse(readFileSync(join(packageRoot, 'data', 'ci-facts.json'), 'utf8'));

/** `owner/repo@<40 hex>:path`, the form every source names at least once. */
export const SOURCE = /[\w.-]+\/[\w.-]+@[0-9a-f]{40}:\S+/;

/** The facts of a GitLab job's image (the node line images share one entry). */
export function imageFacts(image: string): ImageFacts | undefined {
  const withoutDigest = image.replace(/@sha256:[0-9a-f]{64}$/, '');
  return ciFacts.images[image] ?? Object.values(ciFacts.images).find((f) => f.tags?.includes(withoutDigest));
}

// ---- shell scripts of both pipelines ----

export interface ShellBlock {
  where: string;
  script: string;
  dialect: 'bash' | 'sh';
  /** Environment the script starts with (workflow, job and step env; GitLab variables). */
  env: Record<string, string>;
  /** GitLab only: the job's image. */
  image?: string;
}

/** Every `run:` of every workflow (GitHub runs them with bash). */
export function githubBlocks(files: Map<string, string>): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  for (const [path, text] of files) {
    if (!/^\.github\/workflows\/[^/]+\.ya?ml$/.test(path)) continue;
    const wf = parseWorkflow(text);
    for (const [id, job] of Object.entries(wf.jobs)) {
      const jobEnv = (job as { env?: Record<string, string> }).env ?? {};
      (job.steps ?? []).forEach((step, i) => {
        if (step.run === undefined) return;
        const env = { ...wf.env, ...jobEnv, ...(step.env as Record<string, string> | undefined) };
        blocks.push({ where: `${path} job ${id} step ${step.name ?? i + 1}`, script: step.run, dialect: 'bash', env });
      });
    }
  }
  return blocks;
}

export interface GitlabJob {
  stage: string;
  image?: string | { name: string; entrypoint?: string[] };
  script: unknown[];
  before_script?: unknown[];
  variables?: Record<string, string>;
  timeout?: string;
  needs?: string[];
  rules?: { if: string; when?: string }[];
  allow_failure?: boolean;
}

/** GitLab's `extends`: hashes merge deeply, the job's own keys win; anything else is replaced. */
function mergeDeep(base: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(own)) {
    const b = out[k];
    const isHash = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
    out[k] = isHash(b) && isHash(v) ? mergeDeep(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

function resolveExtends(doc: Record<string, unknown>, key: string): Record<string, unknown> {
  const job = doc[key] as Record<string, unknown>;
  const parents = [job.extends ?? []].flat() as string[];
  const { extends: _, ...own } = job;
  return mergeDeep(parents.reduce((acc, p) => mergeDeep(acc, resolveExtends(doc, p)), {} as Record<string, unknown>), own);
}

export function parseGitlab(text: string) {
  const doc = parse(text, { merge: true }) as Record<string, unknown>;
  const jobs = Object.fromEntries(
    Object.keys(doc)
      .filter((k) => !k.startsWith('.') && doc[k] && typeof doc[k] === 'object')
      .map((k) => [k, resolveExtends(doc, k)] as const)
      .filter(([, v]) => 'script' in v),
  ) as unknown as Record<string, GitlabJob>;
  return { doc, jobs };
}

/** GitLab flattens nested script arrays (YAML anchors of script lists). */
export function scriptLines(job: GitlabJob): string[] {
  return [...(job.before_script ?? []), ...job.script].flat(Infinity).map(String);
}

export const imageOf = (job: GitlabJob, variables: Record<string, string> = {}) => {
  const name = typeof job.image === 'string' ? job.image : (job.image?.name ?? '');
  return name.replace(/^\$(\w+)$/, (m, v: string) => variables[v] ?? m);
};

/** Each GitLab job's script as the runner runs it: one shell, bash if the image has it, else sh. */
export function gitlabBlocks(text: string): ShellBlock[] {
  const { doc, jobs } = parseGitlab(text);
  const variables = (doc.variables ?? {}) as Record<string, string>;
  return Object.entries(jobs).map(([id, job]) => {
    const image = imageOf(job, variables);
    return {
      where: `.gitlab-ci.yml job ${id}`,
      script: scriptLines(job).join('\n'),
      dialect: imageFacts(image)?.shell ?? 'sh',
      env: { ...variables, ...job.variables },
      image,
    };
  });
}

// ---- a small reader of the shell the pipelines write: commands and downloads ----

const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '!', '{', '}', '(', ')']);
/** Builtins of bash, dash and BusyBox ash alike. */
export const BUILTINS = new Set([
  '[', '[[', ':', '.', 'cd', 'echo', 'printf', 'set', 'exit', 'export', 'test', 'true', 'false', 'read',
  'local', 'shift', 'unset', 'return', 'break', 'continue', 'eval', 'exec', 'command', 'type', 'trap', 'wait',
]);

interface Token {
  text: string;
  /** An operator (; && || | & newline), or a plain word. */
  op?: boolean;
}

/** Index just after the `)` that closes the `$(` whose `(` is at `open`. */
function closeParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "'") i = s.indexOf("'", i + 1);
    else if (c === '"') i = closeDoubleQuote(s, i);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  throw new Error(`unclosed $( in: ${s.slice(open, open + 60)}`);
}
function closeDoubleQuote(s: string, open: number): number {
  for (let i = open + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '$' && s[i + 1] === '(') i = closeParen(s, i + 1) - 1;
    else if (s[i] === '"') return i;
  }
  throw new Error(`unclosed " in: ${s.slice(open, open + 60)}`);
}

/** Words and operators; command substitutions are returned separately (their commands run too). */
function tokenize(script: string): { tokens: Token[]; substitutions: string[] } {
  const s = script.replace(/\\\n/g, ' ');
  const tokens: Token[] = [];
  const substitutions: string[] = [];
  let word = '';
  let inWord = false;
  const flush = () => {
    if (inWord) tokens.push({ text: word });
    word = '';
    inWord = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '#' && !inWord) {
      const end = s.indexOf('\n', i);
      i = end < 0 ? s.length : end - 1;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      word += s.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      const end = closeDoubleQuote(s, i);
      const inner = s.slice(i + 1, end);
      for (const m of inner.matchAll(/\$\(/g)) substitutions.push(s.slice(i + 1 + m.index! + 2, closeParen(s, i + 1 + m.index! + 1) - 1));
      word += inner;
      inWord = true;
      i = end;
    } else if (c === '$' && s[i + 1] === '(') {
      const end = closeParen(s, i + 1);
      substitutions.push(s.slice(i + 2, end - 1));
      word += s.slice(i, end);
      inWord = true;
      i = end - 1;
    } else if (c === '\\') {
      word += s[i + 1] ?? '';
      inWord = true;
      i++;
    } else if (c === ' ' || c === '\t') {
      flush();
    } else if (c === '\n' || c === ';' || c === '&' || c === '|' || c === '(' || c === ')') {
      flush();
      const two = s.slice(i, i + 2);
      if (two === '&&' || two === '||' || two === ';;') {
        tokens.push({ text: two, op: true });
        i++;
      } else if (c === '&' && s[i + 1] === '>') {
        word = '&>';
        inWord = true;
      } else tokens.push({ text: c, op: true });
    } else if (c === '>' || c === '<') {
      // A redirection: the operator (with an fd before it) and its target are one "word" that is not a command.
      const m = /^[<>]{1,2}&?\d*/.exec(s.slice(i))!;
      word += m[0];
      inWord = true;
      i += m[0].length - 1;
      if (!/&\d$/.test(m[0])) {
        while (s[i + 1] === ' ') i++;
        word += ' ';
      }
    } else {
      word += c;
      inWord = true;
    }
  }
  flush();
  return { tokens, substitutions };
}

/** The command names a script runs, in order, including inside $( ) and pipelines. */
export function commandsOf(script: string): string[] {
  const { tokens, substitutions } = tokenize(script);
  const found: string[] = [];
  let expectCommand = true;
  let skipUntil: string | undefined;
  let casePattern = false;
  for (const t of tokens) {
    if (skipUntil) {
      if (t.text === skipUntil) {
        skipUntil = undefined;
        if (t.text === 'in') casePattern = true;
      }
      continue;
    }
    if (casePattern) {
      // `pattern | pattern)` up to the closing paren; then commands until `;;`.
      if (t.text === 'esac') casePattern = false;
      else if (t.op && t.text === ')') {
        casePattern = false;
        expectCommand = true;
      }
      continue;
    }
    if (t.op) {
      if (t.text === ';;') casePattern = true;
      expectCommand = true;
      continue;
    }
    if (!expectCommand) continue;
    if (KEYWORDS.has(t.text)) continue;
    if (/^[A-Za-z_]\w*=/.test(t.text) || /^\d*[<>&]/.test(t.text)) continue; // assignment or redirection prefix
    if (t.text === 'for') {
      skipUntil = 'do';
      continue;
    }
    if (t.text === 'case') {
      skipUntil = 'in';
      continue;
    }
    if (t.text === 'esac') continue;
    found.push(t.text);
    expectCommand = false;
  }
  return [...found, ...substitutions.flatMap(commandsOf)];
}

/** `${VAR}`, `$VAR` and `${VAR#prefix}` from `vars`; anything else stays as written. */
export function expand(text: string, vars: Record<string, string>): string {
  return text
    .replace(/\$\{(\w+)#([^}]*)\}/g, (m, v: string, prefix: string) => (v in vars ? vars[v]!.replace(new RegExp(`^${prefix}`), '') : m))
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a?: string, b?: string) => vars[(a ?? b)!] ?? m);
}

/** Simple commands as expanded words, with the variables assigned before them (`name=value` lines). */
export function expandedCommands(block: ShellBlock): string[][] {
  const vars: Record<string, string> = { ...block.env };
  const commands: string[][] = [];
  for (const line of block.script.replace(/\\\n/g, ' ').split('\n')) {
    const assignment = /^\s*(\w+)=("([^"$]*(?:\$\{?\w+\}?[^"$]*)*)"|'([^']*)'|(\S*))\s*$/.exec(line);
    if (assignment) {
      vars[assignment[1]!] = expand(assignment[3] ?? assignment[4] ?? assignment[5] ?? '', vars);
      continue;
    }
    for (const part of line.split(/&&|\|\||;|\|/)) {
      const words = [...part.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => expand(m[1] ?? m[2] ?? m[3]!, vars));
      if (words.length) commands.push(words);
    }
  }
  return commands;
}

export interface Download {
  where: string;
  url: string;
  file: string;
}

/** Every `curl` (or `wget`) download of a block: the URL and the file it lands in. */
export function downloadsOf(block: ShellBlock): Download[] {
  return expandedCommands(block)
    .filter((words) => words[0] === 'curl' || words[0] === 'wget')
    .flatMap((words) => {
      const url = words.find((w) => /^https?:\/\//.test(w));
      if (!url) return [];
      const o = words.findIndex((w) => w === '-o' || w === '-O' || w === '--output');
      const explicit = o >= 0 && words[o] !== '-O' ? words[o + 1] : undefined;
      return [{ where: block.where, url, file: explicit ?? url.split('/').pop()! }];
    });
}

// ---- the release facts ----

export interface KnownUrl {
  tool: string;
  role: 'asset' | 'checksum' | 'signature' | 'key';
  release: Release;
}

/** Every URL the pinned releases publish that a pipeline may download, with what it is. */
export function knownUrls(): Map<string, KnownUrl> {
  const known = new Map<string, KnownUrl>();
  for (const [tool, release] of Object.entries(ciFacts.releases)) {
    known.set(release.asset, { tool, role: 'asset', release });
    if (release.checksum) known.set(release.checksum.url, { tool, role: 'checksum', release });
    if (release.signature) {
      known.set(release.signature.url, { tool, role: 'signature', release });
      known.set(release.signature.key, { tool, role: 'key', release });
    }
  }
  return known;
}

/** data/versions.json `canary`: what this repository's canary workflow runs itself (scripts/canary reads it). */
export interface CanaryPins {
  kind: Omit<Release, 'archiveMember'> & { checksum: { url: string; format: string } };
  kindNodeImage: { image: string; tag: string; digest: string; source: string };
  gitlabCiLocal: { version: string; commit: string; source: string };
}
export const canaryPins: CanaryPins = JSON.parse(readFileSync(join(packageRoot, 'data', 'versions.json'), 'utf8')).canary;
