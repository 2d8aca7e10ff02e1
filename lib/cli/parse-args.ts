import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Answers, options } from '../../core/options.js';
import { UsageError } from '../errors.js';

export const commands = ['create', 'upgrade', 'check'] as const;
export type Command = (typeof commands)[number];

interface FlagSpec {
  short?: string;
  description: string;
  /** Commands that take the flag. */
  for: readonly Command[];
  /** Takes a value (default: a boolean switch). */
  value?: string;
}

/** Flags that steer a run rather than answer a question. */
export const runFlags: Record<string, FlagSpec> = {
  yes: { short: 'y', description: 'Take defaults for everything not given; never prompt', for: ['create', 'upgrade'] },
  preset: {
    value: 'path-or-package',
    description: 'Organisation preset (.yaml/.json file, or an installed npm package): defaults, locked answers, constraints',
    for: ['create', 'upgrade', 'check'],
  },
  manifests: { value: 'file|dir|-', description: 'Audit rendered Kubernetes YAML (a file, a folder, or - for stdin) instead of a service', for: ['check'] },
  format: { value: 'table|json|sarif', description: 'Report format (default: table)', for: ['check'] },
  output: { value: 'file', description: 'Write the report (in --format) to a file; the table still goes to stdout', for: ['check'] },
  'kube-version': { value: 'minor', description: 'Kubernetes minor to check against, e.g. 1.36 (default: the generator\'s target, or the preset\'s minKubernetesVersion when newer)', for: ['check'] },
  level: { value: 'restricted|baseline', description: 'Pod Security Standards level pods must meet (default: restricted)', for: ['check'] },
  'dry-run': { description: 'Print what would change (files, diffs); write nothing', for: ['create', 'upgrade'] },
  force: { description: 'Write into a non-empty directory (replaces files the service has; keeps others)', for: ['create'] },
  install: { description: 'Run npm install in the new service (uses the network)', for: ['create'] },
  git: { description: 'git init and make a first commit', for: ['create'] },
  check: { description: 'Only report: exit 1 when a service is behind this generator, 0 when current', for: ['upgrade'] },
  'allow-dirty': { description: 'Upgrade even when the git work tree has uncommitted changes', for: ['upgrade'] },
  'allow-downgrade': { description: 'Upgrade a service whose manifest names a newer generator version (or none)', for: ['upgrade'] },
  help: { short: 'h', description: 'Show this help', for: ['create', 'upgrade', 'check'] },
  version: { short: 'v', description: 'Show the generator version', for: ['create', 'upgrade', 'check'] },
};

export interface ParsedArgs {
  command: Command;
  positionals: string[];
  given: Partial<Record<keyof Answers, string>>;
  /** Switches (`--yes` → true) and run flags that take a value (`--preset x` → 'x'). */
  flags: Record<string, boolean | string | undefined>;
}

export function flagsFor(command: Command): [string, FlagSpec][] {
  return Object.entries(runFlags).filter(([, spec]) => spec.for.includes(command));
}

function parseConfig(command: Command): ParseArgsConfig['options'] {
  const config: NonNullable<ParseArgsConfig['options']> = {};
  for (const [flag, spec] of flagsFor(command)) {
    const type = spec.value ? 'string' : 'boolean';
    config[flag] = spec.short ? { type, short: spec.short } : { type };
  }
  // Answers are flags of the commands that make or remake a service; `check` only reads one.
  if (command !== 'check') for (const option of options) config[option.flag] = { type: 'string' };
  return config;
}

/**
 * argv → command, flags and raw answers. The first word names a command when it is one (`upgrade`, `check`);
 * anything else is the create command's directory (`./upgrade` creates a service named upgrade).
 * Unknown flags and missing values become one-line usage errors.
 */
export function parseCliArgs(argv: string[]): ParsedArgs {
  const command: Command = (commands as readonly string[]).includes(argv[0] ?? '') ? (argv[0] as Command) : 'create';
  const rest = command === 'create' && argv[0] !== 'create' ? argv : argv.slice(1);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: parseConfig(command), allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`unknown option ${unknown[1]}${command === 'create' ? '' : ` for ${command}`}: see --help for the options`);
    throw new UsageError(message.replace(/\. To specify.*$/, '').replace(/^Option /, 'option '));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const given: Record<string, string> = {};
  for (const option of options) {
    const value = values[option.flag];
    if (typeof value === 'string') given[option.key] = value;
  }
  const flags: Record<string, boolean | string> = {};
  for (const [flag, spec] of flagsFor(command)) {
    const value = values[flag];
    if (spec.value ? typeof value === 'string' : value === true) flags[flag] = value as boolean | string;
  }
  return { command, positionals: parsed.positionals, given: given as ParsedArgs['given'], flags };
}
