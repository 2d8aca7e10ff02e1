import { parseWorkflow, type Job, type Workflow } from './ci-workflows.js';

/**
 * A set of GitHub workflows read as a graph: which workflow a job calls, what the callee uses from its caller
 * (secrets, inputs, permissions), and the job names GitHub displays for each run.
 */
export type WorkflowFiles = Map<string, string>;

/** A job's permissions, or the workflow's when the job sets none (GitHub's rule). */
export type Permissions = Record<string, string>;

const LEVEL = { none: 0, read: 1, write: 2 } as const;

/** `read-all`/`write-all` and maps alike, as scope → level. */
export function permissionMap(p: Job['permissions'] | undefined): Permissions | undefined {
  if (p === undefined) return undefined;
  if (typeof p === 'string') return { '*': p.replace(/-all$/, '') };
  return p as Permissions;
}

/** Whether `granted` includes `needed` at its level (a `*` scope grants every scope). */
export function grants(granted: Permissions, scope: string, needed: string): boolean {
  const level = granted[scope] ?? granted['*'] ?? 'none';
  return LEVEL[level as keyof typeof LEVEL] >= LEVEL[needed as keyof typeof LEVEL];
}

export function effectivePermissions(wf: Workflow, job: Job): Permissions {
  return permissionMap(job.permissions) ?? permissionMap(wf.permissions) ?? { '*': 'write' };
}

interface CallJob extends Job {
  with?: Record<string, unknown>;
  secrets?: 'inherit' | Record<string, unknown>;
}

export interface ReusableCall {
  caller: string;
  job: string;
  callee: string;
  call: CallJob;
  callerWorkflow: Workflow;
}

/** Every job that calls a workflow of the same repository (`uses: ./.github/workflows/x.yml`). */
export function reusableCalls(files: WorkflowFiles): ReusableCall[] {
  const calls: ReusableCall[] = [];
  for (const [path, text] of files) {
    const wf = parseWorkflow(text);
    for (const [id, job] of Object.entries(wf.jobs)) {
      if (job.uses?.startsWith('./')) calls.push({ caller: path, job: id, callee: job.uses.slice(2), call: job as CallJob, callerWorkflow: wf });
    }
  }
  return calls;
}

/** `secrets.NAME`, `inputs.NAME` and `vars.NAME` that a workflow's text refers to. */
export function contextNames(text: string, context: 'secrets' | 'inputs' | 'vars'): Set<string> {
  return new Set([...text.matchAll(new RegExp(`\\b${context}\\.([A-Za-z_][\\w-]*)`, 'g'))].map((m) => m[1]!));
}

/** What a reusable workflow declares under `on.workflow_call`. */
export function workflowCallInterface(wf: Workflow): { inputs: Record<string, { required?: boolean }>; secrets: Record<string, { required?: boolean }> } | undefined {
  if (!('workflow_call' in wf.on)) return undefined;
  const call = (wf.on.workflow_call ?? {}) as { inputs?: Record<string, { required?: boolean }>; secrets?: Record<string, { required?: boolean }> };
  return { inputs: call.inputs ?? {}, secrets: call.secrets ?? {} };
}

/** Problems of one call: a secret or input the callee uses that the caller does not pass, or a permission it cannot get. */
export function callProblems(files: WorkflowFiles, call: ReusableCall): string[] {
  const where = `${call.caller} job ${call.job} → ${call.callee}`;
  const text = files.get(call.callee);
  if (text === undefined) return [`${where}: no such workflow`];
  const callee = parseWorkflow(text);
  const iface = workflowCallInterface(callee);
  if (!iface) return [`${where}: the callee has no workflow_call trigger`];
  const problems: string[] = [];
  // GITHUB_TOKEN reaches every workflow; any other secret only when passed (or inherited).
  const used = [...contextNames(text, 'secrets')].filter((s) => s !== 'GITHUB_TOKEN');
  const passed = call.call.secrets === 'inherit' ? undefined : Object.keys(call.call.secrets ?? {});
  for (const secret of used) {
    if (passed && !passed.includes(secret)) problems.push(`${where}: the callee uses secrets.${secret}, the caller does not pass it`);
    if (passed && passed.includes(secret) && !(secret in iface.secrets)) problems.push(`${where}: secrets.${secret} is passed but not declared under workflow_call.secrets`);
  }
  for (const input of contextNames(text, 'inputs')) {
    if (!(input in iface.inputs)) problems.push(`${where}: the callee uses inputs.${input} without declaring it`);
  }
  for (const [input, spec] of Object.entries(iface.inputs)) {
    if (spec.required && !(input in (call.call.with ?? {}))) problems.push(`${where}: required input ${input} is not passed`);
  }
  // A called workflow's jobs can only keep or lower the permissions of the calling job.
  const granted = effectivePermissions(call.callerWorkflow, call.call);
  for (const [id, job] of Object.entries(callee.jobs)) {
    const needed = permissionMap(job.permissions) ?? permissionMap(callee.permissions) ?? {};
    for (const [scope, level] of Object.entries(needed)) {
      if (!grants(granted, scope, level)) problems.push(`${where}: job ${id} needs ${scope}: ${level}, the calling job grants ${granted[scope] ?? granted['*'] ?? 'none'}`);
    }
  }
  return problems;
}

/**
 * The job names GitHub shows for a run of `entry` (the Checks list, `gh run view --json jobs`): a job's `name`
 * (or its id), and for a job that calls a workflow, "<caller name or id> / <callee job name or id>".
 */
export function displayedJobNames(files: WorkflowFiles, entry: string): { name: string; job: string; workflow: string }[] {
  const wf = parseWorkflow(files.get(entry)!);
  return Object.entries(wf.jobs).flatMap(([id, job]) => {
    const shown = job.name ?? id;
    if (job.uses?.startsWith('./')) {
      return displayedJobNames(files, job.uses.slice(2)).map((inner) => ({ ...inner, name: `${shown} / ${inner.name}` }));
    }
    return [{ name: shown, job: id, workflow: entry }];
  });
}

/** Workflows that start runs of their own (any trigger but workflow_call alone). */
export function entryWorkflows(files: WorkflowFiles): string[] {
  return [...files].filter(([, text]) => Object.keys(parseWorkflow(text).on).some((t) => t !== 'workflow_call')).map(([path]) => path);
}

/** Every name under which a job of `workflow` may be displayed, across every run that includes it. */
export function namesOfJob(files: WorkflowFiles, workflow: string, job: string): string[] {
  return [...new Set(entryWorkflows(files).flatMap((e) => displayedJobNames(files, e).filter((d) => d.workflow === workflow && d.job === job).map((d) => d.name)))];
}

/** Bash `[[ "$var" == glob ]]` patterns (quoted parts literal) as regular expressions. */
export function bashGlobTests(script: string, variable: string): { glob: string; regex: RegExp }[] {
  const found: { glob: string; regex: RegExp }[] = [];
  for (const m of script.matchAll(new RegExp(`"\\$${variable}"\\s*==\\s*((?:"[^"]*"|'[^']*'|[^\\s\\]])+)`, 'g'))) {
    const glob = m[1]!;
    let source = '';
    for (const part of glob.matchAll(/"([^"]*)"|'([^']*)'|([^"']+)/g)) {
      const literal = part[1] ?? part[2];
      if (literal !== undefined) source += literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      else source += part[3]!.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    }
    found.push({ glob, regex: new RegExp(`^${source}$`) });
  }
  return found;
}
