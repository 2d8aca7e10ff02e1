import { options } from '../../generators/options.js';
import { type Command, flagsFor } from './parse-args.js';

const USAGE: Record<Command, string> = {
  create: `  create-hardened-service <dir> [options]          create a new service
  create-hardened-service upgrade [dir...] [options] bring services to this generator (see upgrade --help)`,
  upgrade: `  create-hardened-service upgrade [dir... | glob]  [options]
  Re-renders each service with this generator and its recorded answers, and three-way merges the result
  into the team's files. Conflicts are written inline with markers and listed; the exit code is then 1.`,
};

/** --help, written from the options model so it can never disagree with the prompts. */
export function helpText(version: string, command: Command = 'create'): string {
  const rows: [string, string][] = [];
  for (const o of options) {
    const choices = o.type !== 'string' && o.choices ? ` (${o.choices.map((c) => c.value).join(' | ')})` : '';
    rows.push([`--${o.flag} <value>`, `${o.description}${choices}`]);
  }
  const runRows: [string, string][] = flagsFor(command).map(([flag, spec]) => [
    `${spec.short ? `-${spec.short}, ` : '    '}--${flag}`,
    spec.description,
  ]);
  const width = Math.max(...[...rows, ...runRows].map(([left]) => left.length)) + 2;
  const format = (list: [string, string][]) => list.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join('\n');
  return `create-hardened-service ${version}
Scaffold a Node.js service that is hardened from its first commit.

Usage:
${USAGE[command]}

${command === 'create' ? 'Answers (prompted when not given and the terminal is interactive)' : 'Answers (recorded ones are kept; a flag changes one; new options are prompted)'}:
${format(rows)}

Run options:
${format(runRows)}

Without a terminal (CI) or with --yes, every answer not given takes its default.
Exit codes: 0 done, 1 failed, 2 bad usage, 130 cancelled.
`;
}
