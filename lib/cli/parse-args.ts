import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Answers, options } from '../../generators/options.js';
import { UsageError } from '../errors.js';

export const commands = ['create', 'upgrade'] as const;
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
  'dry-run': { description: 'Print what would change (files, diffs); write nothing', for: ['create', 'upgrade'] },
  force: { description: 'Write into a non-empty directory (replaces files the service has; keeps others)', for: ['create'] },
  install: { description: 'Run npm install in the new service (uses the network)', for: ['create'] },
  git: { description: 'git init and make a first commit', for: ['create'] },
  check: { description: 'Only report: exit 1 when a service is behind this generator, 0 when current', for: ['upgrade'] },
  'allow-dirty': { description: 'Upgrade even when the git work tree has uncommitted changes', for: ['upgrade'] },
  help: { short: 'h', description: 'Show this help', for: ['create', 'upgrade'] },
  version: { short: 'v', description: 'Show the generator version', for: ['create', 'upgrade'] },
};

export interface ParsedArgs {
  command: Command;
  positionals: string[];
  given: Partial<Record<keyof Answers, string>>;
  flags: Record<string, boolean | undefined>;
}

export function flagsFor(command: Command): [string, FlagSpec][] {
  return Object.entries(runFlags).filter(([, spec]) => spec.for.includes(command));
}

function parseConfig(command: Command): ParseArgsConfig['options'] {
  const config: NonNullable<ParseArgsConfig['options']> = {};
  for (const [flag, spec] of flagsFor(command)) config[flag] = spec.short ? { type: 'boolean', short: spec.short } : { type: 'boolean' };
  for (const option of options) config[option.flag] = { type: 'string' };
  return config;
}

/**
 * argv → command, flags and raw answers. The first word names a command when it is one (`upgrade`);
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
  const flags: Record<string, boolean> = {};
  for (const [flag] of flagsFor(command)) if (values[flag] === true) flags[flag] = true;
  return { command, positionals: parsed.positionals, given: given as ParsedArgs['given'], flags };
}
