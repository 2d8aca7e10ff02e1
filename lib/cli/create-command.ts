import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { localImageName } from '../../core/image.js';
import { resolveAnswers } from '../answers.js';
import { GenerationError, UsageError } from '../errors.js';
import { withManifest } from '../manifest.js';
import { enforcePresetOnTree, loadPreset, recordPreset } from '../preset.js';
import { renderService } from '../render-service.js';
import { directoryState, writeTreeAtomically } from '../write-tree.js';
import { type CliIO, printer } from './io.js';
import type { ParsedArgs } from './parse-args.js';
import { createAsker } from './prompts.js';

export function isInteractive(io: CliIO, args: ParsedArgs): boolean {
  return !args.flags.yes && !io.env.CI && Boolean(io.stdin.isTTY) && Boolean(io.stdout.isTTY);
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Fails early, with the fix in the message, when the target cannot take a new service. */
function checkTarget(target: string, display: string, force: boolean): void {
  const state = directoryState(target);
  if (state === 'not-a-directory') throw new UsageError(`${display} exists and is not a directory: choose another path`);
  if (state === 'non-empty' && !force) {
    throw new UsageError(`${display} is not empty: choose a new directory, or pass --force to add the service to it`);
  }
  let existing = state === 'missing' ? dirname(target) : target;
  while (!existsSync(existing)) existing = dirname(existing);
  if (!isWritable(existing)) {
    throw new UsageError(`cannot write to ${existing}: choose a directory you can write to`);
  }
}

async function runStep(io: CliIO, what: string, command: string, args: string[], cwd: string): Promise<void> {
  printer(io.stdout)(`• ${what}: ${command} ${args.join(' ')}`);
  // Loaded only for --git and --install: a plain generation does not pay for it.
  const { execa } = await import('execa');
  const result = await execa(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], reject: false });
  if (result.exitCode !== 0) throw new GenerationError(`${what} failed (${command} exited ${result.exitCode}); the service is written, run it by hand`);
}

/**
 * The step that moves the shell to the service's Node line when the generator runs on another one: the service's
 * .nvmrc names its line, and its .npmrc (engine-strict) makes npm install refuse an older one (EBADENGINE).
 */
function nodeSwitchSteps(runningVersion: string, serviceMajor: number): string[] {
  const running = Number(runningVersion.split('.')[0]);
  if (running === serviceMajor) return [];
  const why = running < serviceMajor ? `npm install refuses Node ${running}` : `its tests should run on the image's line`;
  return [`nvm install   # this is Node ${runningVersion}, the service's line is ${serviceMajor} (its .nvmrc; fnm use reads it too): ${why}`];
}

export async function createCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const say = printer(io.stdout);
  const interactive = isInteractive(io, args);
  const ask = interactive ? await createAsker(io) : undefined;

  let dir = args.positionals[0];
  if (args.positionals.length > 1) throw new UsageError(`expected one directory, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
  if (!dir) {
    if (!ask) throw new UsageError('missing target directory: create-hardened-service <dir> (see --help)');
    dir = String(await ask({ key: 'dir', flag: 'dir', type: 'string', description: 'Directory for the new service', affects: [], since: '0.1.0', default: () => 'my-service', validate: (v) => (v.trim() ? undefined : 'give a directory') }, 'my-service'));
  }
  const target = resolve(io.cwd, dir);
  const display = isAbsolute(dir) ? target : relative(io.cwd, target) || '.';
  checkTarget(target, display, Boolean(args.flags.force));

  const preset = typeof args.flags.preset === 'string' ? await loadPreset(args.flags.preset, io.cwd) : undefined;
  const answers = await resolveAnswers({ given: args.given, context: { targetDir: target }, ask, ...(preset ? { preset } : {}) });
  const rendered = await renderService(answers);
  if (preset) await enforcePresetOnTree(preset, rendered);
  const tree = withManifest(answers, rendered, preset ? recordPreset(preset) : undefined);

  if (args.flags['dry-run']) {
    say(`Dry run: would write ${tree.size} files to ${display}/ (nothing written)`);
    for (const [path, bytes] of tree) say(`  ${path} (${bytes.length} bytes)`);
    return 0;
  }

  say(`Creating ${answers.name} (${answers.framework}, Node ${answers.nodeVersion}, port ${answers.port}) in ${display}/`);
  const { replaced } = writeTreeAtomically(tree, target);
  say(`✔ wrote ${tree.size} files${replaced.length ? `, replacing ${replaced.length}: ${replaced.join(', ')}` : ''}`);

  if (args.flags.git) {
    await runStep(io, 'git', 'git', ['init', '-q'], target);
    await runStep(io, 'git', 'git', ['add', '-A'], target);
    await runStep(io, 'git', 'git', ['commit', '-q', '-m', `Scaffold ${answers.name} with create-hardened-service`], target);
  }
  if (args.flags.install) await runStep(io, 'install', 'npm', ['install'], target);

  const cd = display === '.' ? [] : [`cd ${display}`];
  say('');
  say('Next steps:');
  const node = nodeSwitchSteps(process.versions.node, answers.nodeVersion);
  for (const step of [...cd, ...node, ...(args.flags.install ? [] : ['npm install']), 'npm test', `docker build -t ${localImageName(answers)}:dev .`]) say(`  ${step}`);
  say('Read SECURITY.md for what is hardened, and README.md for deploying with the Helm chart.');
  return 0;
}
