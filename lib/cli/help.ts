import { options } from '../../generators/options.js';
import { runFlags } from './parse-args.js';

/** --help, written from the options model so it can never disagree with the prompts. */
export function helpText(version: string): string {
  const rows: [string, string][] = [];
  for (const o of options) {
    const choices = o.type !== 'string' && o.choices ? ` (${o.choices.map((c) => c.value).join(' | ')})` : '';
    rows.push([`--${o.flag} <value>`, `${o.description}${choices}`]);
  }
  const runRows: [string, string][] = Object.entries(runFlags).map(([flag, spec]) => [
    `${'short' in spec ? `-${spec.short}, ` : '    '}--${flag}`,
    spec.description,
  ]);
  const width = Math.max(...[...rows, ...runRows].map(([left]) => left.length)) + 2;
  const format = (list: [string, string][]) => list.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join('\n');
  return `create-hardened-service ${version}
Scaffold a Node.js service that is hardened from its first commit.

Usage:
  create-hardened-service <dir> [options]

Answers (prompted when not given and the terminal is interactive):
${format(rows)}

Run options:
${format(runRows)}

Without a terminal (CI) or with --yes, every answer not given takes its default.
Exit codes: 0 done, 1 failed, 2 bad usage, 130 cancelled.
`;
}
