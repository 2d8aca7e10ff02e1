import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { createTwoFilesPatch } from 'diff';
import type { Answers } from '../../core/options.js';
import { options } from '../../core/options.js';
import { resolveAnswers } from '../answers.js';
import { isKnownError, UsageError } from '../errors.js';
import type { FileTree } from '../../core/file-tree.js';
import { mapLimited } from '../map-limited.js';
import { createManifestInThreadPool, decodeBase, type Manifest, MANIFEST_PATH, noManifest, readManifest, serializeManifest } from '../manifest.js';
import { generatorVersion } from '../../core/package-root.js';
import { gatewayDataPlanes } from '../../core/versions.js';
import { renderService } from '../render-service.js';
import { applyChangesAtomically, type FileChange, recoverInterruptedUpgrade } from '../upgrade/apply-changes.js';
import { detectRenames } from '../upgrade/detect-renames.js';
import { readServiceFiles, type ServiceFiles } from '../upgrade/read-service.js';
import { LOCK_FILE, lockService } from '../upgrade/service-lock.js';
import { displayPath, oneLine } from '../safe-read.js';
import { type FileDecision, hasConflicts, isConflict, nextBase, planUpgrade } from '../upgrade/plan-upgrade.js';
import { enforcePresetOnTree, loadPreset, ORG_PRESET_ENV, presetFromRecord, recordPreset } from '../preset.js';
import { isBehindGenerator, unresolvedConflicts } from '../service-drift.js';
import { fleetThreads, type RecordedOutput, upgradeInWorkers } from './upgrade-workers.js';
import { type CliIO, printer } from './io.js';
import type { ParsedArgs } from './parse-args.js';
import { createAsker } from './prompts.js';
import { isInteractive } from './create-command.js';

/** Directories named on the command line; quoted globs are expanded here (shells expand the rest). */
async function serviceDirs(args: ParsedArgs, cwd: string): Promise<string[]> {
  const patterns = args.positionals.length ? args.positionals : ['.'];
  const dirs: string[] = [];
  for (const pattern of patterns) {
    if (!/[*?[{]/.test(pattern)) {
      dirs.push(pattern);
      continue;
    }
    const matches = await glob(`${pattern.replace(/\/$/, '')}/${MANIFEST_PATH}`, { cwd, dot: true });
    if (matches.length === 0) throw new UsageError(`no generated service matches ${pattern}`);
    dirs.push(...matches.map((m) => m.slice(0, -MANIFEST_PATH.length - 1) || '.').sort());
  }
  return dirs;
}

/** Looks for a .git above the folder before spawning git (a fleet of plain folders spawns nothing). */
async function isInsideGitRepository(dir: string): Promise<boolean> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return true;
    if (dirname(d) === d) return false;
  }
}

/** The paths git reports as changed (at most a few, for the message), empty when the tree is clean or not in git. */
async function uncommittedPaths(dir: string): Promise<string[]> {
  if (!(await isInsideGitRepository(dir))) return [];
  const inside = await execa('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dir, reject: false });
  if (inside.exitCode !== 0) return [];
  // The run's own lock file and its temporaries are not the team's change.
  const status = await execa('git', ['status', '--porcelain', '-z', '--', '.', `:(exclude)${LOCK_FILE}`, `:(exclude)${LOCK_FILE}.*`], { cwd: dir, reject: false, stripFinalNewline: false });
  return String(status.stdout).split('\0').filter((entry) => entry.length > 3).map((entry) => entry.slice(3));
}

const LABELS: Record<FileDecision['action'], string> = {
  unchanged: 'unchanged',
  update: 'updated',
  'keep-yours': 'kept yours',
  'keep-yours-lockfile': 'kept your lockfile (run npm install)',
  merged: 'merged',
  conflict: 'CONFLICT',
  'binary-conflict': 'CONFLICT (binary: kept yours)',
  'encoding-conflict': 'CONFLICT (the template brings characters your file\'s encoding cannot hold: kept yours)',
  'too-large-conflict': 'CONFLICT (too large to merge: more than 20,000 × 20,000 lines to compare; kept yours)',
  'left-alone': 'CONFLICT (left alone)',
  'rename-unsure': 'CONFLICT (deleted or renamed? the template changed it)',
  unresolved: 'CONFLICT (unresolved since the last upgrade: kept yours)',
  add: 'added',
  remove: 'removed',
  'keep-dropped': 'kept (no longer generated)',
  'stays-deleted': 'stays deleted',
};

function summarize(decisions: FileDecision[]): string {
  const counts = new Map<string, number>();
  for (const d of decisions) if (d.action !== 'unchanged') counts.set(LABELS[d.action], (counts.get(LABELS[d.action]) ?? 0) + 1);
  return [...counts].map(([label, n]) => `${n} ${label}`).join(', ') || 'nothing to change';
}

/** The writes: each at the path's real location (a symlink's target inside the service). */
function changesFrom(decisions: FileDecision[], locations: ReadonlyMap<string, string>): FileChange[] {
  const changes: FileChange[] = [];
  for (const d of decisions) {
    const path = locations.get(d.path) ?? d.path;
    if ('bytes' in d) changes.push({ path, bytes: d.bytes });
    else if (d.action === 'remove') changes.push({ path, bytes: null });
  }
  return changes;
}

function conflictNote(d: FileDecision): string {
  if (d.action === 'left-alone') return `${d.path} (${d.what})`;
  if (d.action === 'rename-unsure') return `${d.path} (renamed to ${d.candidates.join(' or ')}? name it under "renamed" in ${MANIFEST_PATH}, or under "deleted")`;
  return d.path;
}

/** What the summary line adds after the counts: what the team has to do, and where renames and symlinks led. */
function notesOn(decisions: FileDecision[], service: ServiceFiles): string {
  const conflicted = decisions.filter(isConflict).map(conflictNote);
  const kept = decisions.filter((d) => d.action === 'keep-dropped').map((d) => d.path);
  const touched = decisions.filter((d) => d.action !== 'unchanged' && service.locations.has(d.path));
  const arrow = (d: FileDecision) => `${d.path} → ${service.locations.get(d.path)}`;
  const renamed = touched.filter((d) => service.renamed.has(d.path)).map(arrow);
  const linked = touched.filter((d) => !service.renamed.has(d.path)).map(arrow);
  return [
    conflicted.length ? `; resolve conflicts in: ${conflicted.join(', ')}` : '',
    kept.length ? `; no longer generated, kept because you changed them: ${kept.join(', ')}` : '',
    renamed.length ? `; renamed by you: ${renamed.join(', ')}` : '',
    linked.length ? `; through symlinks: ${linked.join(', ')}` : '',
  ].join('');
}

interface ServiceOutcome {
  dir: string;
  status: 'current' | 'behind' | 'upgraded' | 'conflicts' | 'failed';
  line: string;
}

/**
 * The team's files: every path the manifest or the render names is checked and resolved (symlinks, recorded
 * renames) before anything is written, and files renamed since the last upgrade are looked for.
 */
async function readTeamSide(dir: string, display: string, manifest: Manifest, base: FileTree, theirs: FileTree) {
  const paths = [...base.keys(), ...theirs.keys(), ...manifest.deleted, ...Object.keys(manifest.conflicts ?? {}), MANIFEST_PATH];
  const service = readServiceFiles(dir, paths, manifest.renamed);
  if (service.special.has(MANIFEST_PATH)) throw new UsageError(`${display}/${MANIFEST_PATH} is ${service.special.get(MANIFEST_PATH)}: make it a file`);
  const { ours, locations, special } = service;
  const renames = await detectRenames(dir, { base, theirs, ours, locations, special, deleted: new Set(manifest.deleted) });
  for (const [path, { to, bytes }] of renames.renamed) {
    ours.set(path, bytes);
    locations.set(path, to);
    service.renamed.set(path, to);
  }
  return { service, unsure: renames.unsure };
}

/** A run that writes holds the service's lock, and first undoes what an interrupted run left. */
async function upgradeOne(dir: string, display: string, args: ParsedArgs, io: CliIO): Promise<ServiceOutcome> {
  if (args.flags.check || args.flags['dry-run']) return upgradeUnlocked(dir, display, args, io);
  if (!existsSync(join(dir, MANIFEST_PATH))) throw noManifest(dir);
  const unlock = await lockService(dir, display);
  try {
    const recovery = await recoverInterruptedUpgrade(dir);
    const say = printer(io.stdout);
    if (recovery.kind === 'rolled-back') say(`${display}: rolled back an interrupted upgrade first (${recovery.files} ${recovery.files === 1 ? 'file' : 'files'} restored)`);
    if (recovery.kind === 'cleaned') say(`${display}: removed what an interrupted upgrade left (it had changed nothing, or had completed: nothing to roll back)`);
    return await upgradeUnlocked(dir, display, args, io);
  } finally {
    await unlock();
  }
}

async function upgradeUnlocked(dir: string, display: string, args: ParsedArgs, io: CliIO): Promise<ServiceOutcome> {
  const say = printer(io.stdout);
  const manifest = await readManifest(dir, { options, allowDowngrade: args.flags['allow-downgrade'] === true });
  const recorded = manifest.generator.version;
  const recordedAnswers: Partial<Record<keyof Answers, string | number>> = { ...manifest.answers };
  for (const key of Object.keys(recordedAnswers)) if (!options.some((o) => o.key === key)) delete recordedAnswers[key as keyof Answers];
  // The recorded preset is re-applied; --preset (or the organisation's CREATE_HARDENED_SERVICE_PRESET) replaces it.
  const presetSpec = typeof args.flags.preset === 'string' ? args.flags.preset : io.env[ORG_PRESET_ENV] || undefined;
  const preset = presetSpec
    ? await loadPreset(presetSpec, io.cwd)
    : manifest.preset ? presetFromRecord(manifest.preset, `${display}/${MANIFEST_PATH}`) : undefined;
  const ask = isInteractive(io, args) && !args.flags.check ? await createAsker(io) : undefined;
  const answers = await resolveAnswers({ given: args.given, recorded: recordedAnswers, context: { targetDir: dir }, ask, ...(preset ? { preset } : {}) });
  const theirs = await renderService(answers);
  if (preset) await enforcePresetOnTree(preset, theirs);
  const base = decodeBase(manifest);
  const { service, unsure } = await readTeamSide(dir, display, manifest, base, theirs);
  const { ours, locations } = service;
  const unresolved = unresolvedConflicts(manifest.conflicts, ours);
  const decisions = planUpgrade({
    base,
    ours,
    theirs,
    deleted: new Set(manifest.deleted),
    unresolved: new Set(unresolved),
    special: service.special,
    linked: new Set(locations.keys()),
    renameUnsure: unsure,
  });
  const behind = unresolved.length > 0 || isBehindGenerator(recorded, generatorVersion, base, theirs);
  const versions = recorded === generatorVersion ? recorded : `${recorded} → ${generatorVersion}`;

  if (args.flags.check) {
    const conflictNote = unresolved.length ? `; unresolved conflicts in: ${unresolved.join(', ')}` : '';
    return behind
      ? { dir, status: 'behind', line: `${display}: behind (generated by ${recorded}, this is ${generatorVersion}; upgrade would: ${summarize(decisions)}${conflictNote})` }
      : { dir, status: 'current', line: `${display}: current (${recorded})` };
  }
  if (args.flags['dry-run']) {
    for (const d of decisions.filter((x) => x.action !== 'unchanged')) {
      say(`  ${LABELS[d.action].padEnd(28)}${d.path}`);
      if ('bytes' in d) {
        const before = ours.get(d.path)?.toString('utf8') ?? '';
        say(createTwoFilesPatch(`a/${d.path}`, `b/${d.path}`, before, d.bytes.toString('utf8'), '', '', { context: 3 }).trimEnd());
      }
    }
    return { dir, status: behind ? 'behind' : 'current', line: `${display}: dry run, would apply: ${summarize(decisions)} (${versions}); nothing written` };
  }
  const dirty = args.flags['allow-dirty'] ? [] : await uncommittedPaths(dir);
  if (dirty.length) {
    const named = dirty.slice(0, 3).map(displayPath).join(', ') + (dirty.length > 3 ? ` and ${dirty.length - 3} more` : '');
    throw new UsageError(`${display} has uncommitted changes (${named}): commit or stash them first (or pass --allow-dirty), so the upgrade can be reviewed and undone with git`);
  }
  const next = nextBase(decisions, { base, ours, theirs });
  const renamed = Object.fromEntries([...service.renamed].filter(([path]) => theirs.has(path)));
  const record = { deleted: next.deleted, preset: preset ? recordPreset(preset) : undefined, conflicts: next.conflicts, renamed };
  const manifestBytes = serializeManifest(await createManifestInThreadPool(answers, next.base, record));
  const changes = changesFrom(decisions, locations);
  if (changes.length > 0 || !ours.get(MANIFEST_PATH)?.equals(manifestBytes)) {
    await applyChangesAtomically(dir, [...changes, { path: locations.get(MANIFEST_PATH) ?? MANIFEST_PATH, bytes: manifestBytes }]);
  }
  return {
    dir,
    status: hasConflicts(decisions) ? 'conflicts' : 'upgraded',
    line: `${display}: ${summarize(decisions)} (${versions})${notesOn(decisions, service)}${retiredDataPlaneNote(answers)}`,
  };
}

/** A kept answer that names what its upstream retired: reported on every upgrade, never replaced unasked. */
function retiredDataPlaneNote(answers: Answers): string {
  if (!gatewayDataPlanes.dataPlanes[answers.dataPlane].retired) return '';
  return `; kept --data-plane ${answers.dataPlane}, retired upstream (check warns, CHS-NET-005): move with --exposure gateway --data-plane <implementation>`;
}

/** Services a fleet run upgrades at once in one thread: their file I/O (and helpers' processes) overlap. */
const FLEET_CONCURRENCY = 8;

/** A CliIO whose output is recorded, to be replayed in order once the service is done. */
export function recordingIO(io: CliIO): { io: CliIO; written: RecordedOutput } {
  const written: RecordedOutput = [];
  const recorder = (name: 'stdout' | 'stderr', stream: NodeJS.WritableStream & { isTTY?: boolean }) =>
    ({ write: (text: string) => written.push([name, text]), isTTY: stream.isTTY }) as unknown as NodeJS.WritableStream & { isTTY?: boolean };
  return { io: { ...io, stdout: recorder('stdout', io.stdout), stderr: recorder('stderr', io.stderr) }, written };
}

/**
 * Upgrades one service of a fleet: its summary line (or its one-line error) goes to `io`; the exit code it
 * contributes is returned. `alone`: the only service of the run, whose error the caller reports itself.
 */
export async function upgradeFleetMember(abs: string, args: ParsedArgs, io: CliIO, alone: boolean): Promise<number> {
  const display = relative(io.cwd, abs) || '.';
  try {
    const outcome = await upgradeOne(abs, display, args, io);
    printer(io.stdout)(oneLine(outcome.line));
    return outcome.status === 'conflicts' || (args.flags.check && outcome.status === 'behind') ? 1 : 0;
  } catch (err) {
    if (alone) throw err;
    // In a fleet run one bad service does not stop the others, and counts as failed (exit 1): 2 is for a command
    // that is wrong as a whole, before any service is touched.
    printer(io.stderr)(oneLine(`${display}: ${isKnownError(err) ? err.message : err instanceof Error ? err.message.split('\n')[0] : String(err)}`));
    return 1;
  }
}

/**
 * `upgrade [dir...]`: one summary line per service; exit 1 when any service has conflicts, is behind (--check) or
 * failed. A fleet is upgraded several services at a time, over worker threads when it is large enough to pay
 * for them (one at a time when a person answers prompts), and reported in order; a directory named twice is
 * upgraded once.
 */
export async function upgradeCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const dirs = [...new Map((await serviceDirs(args, io.cwd)).map((dir) => [resolve(io.cwd, dir), dir])).keys()];
  const prompts = isInteractive(io, args) && !args.flags.check;
  const replay = (written: RecordedOutput) => {
    for (const [name, text] of written) io[name].write(text);
  };
  let exitCodes: number[];
  let threads = 1;
  if (prompts || dirs.length === 1) {
    exitCodes = [];
    for (const abs of dirs) exitCodes.push(await upgradeFleetMember(abs, args, io, dirs.length === 1));
  } else {
    threads = fleetThreads(dirs.length, io.env);
    exitCodes = threads > 1
      ? await upgradeInWorkers(dirs, args, io, threads, replay)
      : (await mapLimited(dirs, FLEET_CONCURRENCY, async (abs) => {
          const own = recordingIO(io);
          return { exitCode: await upgradeFleetMember(abs, args, own.io, false), written: own.written };
        }, (r) => replay(r.written))).map((r) => r.exitCode);
  }
  if (dirs.length > 1) printer(io.stdout)(`${dirs.length} services${threads > 1 ? ` (${threads} worker threads)` : ''}`);
  return Math.max(0, ...exitCodes);
}
