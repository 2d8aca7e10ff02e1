import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Answers, options } from '../../generators/options.js';
import { UsageError } from '../errors.js';

/** Flags that steer a run rather than answer a question. */
export const runFlags = {
  yes: { type: 'boolean', short: 'y', description: 'Take defaults for everything not given; never prompt' },
  'dry-run': { type: 'boolean', description: 'Print the files that would be written; write nothing' },
  force: { type: 'boolean', description: 'Write into a non-empty directory (replaces files the service has; keeps others)' },
  install: { type: 'boolean', description: 'Run npm install in the new service (uses the network)' },
  git: { type: 'boolean', description: 'git init and make a first commit' },
  help: { type: 'boolean', short: 'h', description: 'Show this help' },
  version: { type: 'boolean', short: 'v', description: 'Show the generator version' },
} as const;

export type RunFlags = { [K in keyof typeof runFlags]?: boolean };

export interface ParsedArgs {
  positionals: string[];
  given: Partial<Record<keyof Answers, string>>;
  flags: RunFlags;
}

function parseConfig(): ParseArgsConfig['options'] {
  const config: NonNullable<ParseArgsConfig['options']> = {};
  for (const [flag, spec] of Object.entries(runFlags)) {
    config[flag] = 'short' in spec ? { type: 'boolean', short: spec.short } : { type: 'boolean' };
  }
  for (const option of options) config[option.flag] = { type: 'string' };
  return config;
}

/** argv → flags and raw answers. Unknown flags and missing values become one-line usage errors. */
export function parseCliArgs(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: parseConfig(), allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`unknown option ${unknown[1]}: see --help for the options`);
    throw new UsageError(message.replace(/\. To specify.*$/, '').replace(/^Option /, 'option '));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const given: Record<string, string> = {};
  for (const option of options) {
    const value = values[option.flag];
    if (typeof value === 'string') given[option.key] = value;
  }
  const flags: Record<string, boolean> = {};
  for (const flag of Object.keys(runFlags)) {
    if (values[flag] === true) flags[flag] = true;
  }
  return { positionals: parsed.positionals, given: given as ParsedArgs['given'], flags: flags as RunFlags };
}
