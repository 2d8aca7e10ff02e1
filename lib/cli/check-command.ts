import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { formatReport, formatTable, REPORT_FORMATS, type ReportFormat } from '../check/report.js';
import { checkManifests, checkService, type CheckOptions, reportExitCode } from '../check/run-check.js';
import { loadPreset } from '../preset.js';
import type { CliIO } from './io.js';
import type { ParsedArgs } from './parse-args.js';

function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * `check [dir]` and `check --manifests <file|dir|->`: audit, print a report, exit 0 when every rule passes
 * (warnings allowed), 1 when any fails, 2 on bad usage.
 */
export async function checkCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const format = (stringFlag(args, 'format') ?? 'table') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new UsageError(`--format ${format} is not one of: ${REPORT_FORMATS.join(', ')}`);
  const level = stringFlag(args, 'level') ?? 'restricted';
  if (level !== 'restricted' && level !== 'baseline') throw new UsageError(`--level ${level} is not one of: restricted, baseline`);
  const kubeVersion = stringFlag(args, 'kube-version');
  const manifests = stringFlag(args, 'manifests');
  if (manifests !== undefined && args.positionals.length > 0) {
    throw new UsageError(`give either a service directory or --manifests, not both (got ${args.positionals.join(' ')})`);
  }
  if (args.positionals.length > 1) throw new UsageError(`expected one service directory, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
  const presetSpec = stringFlag(args, 'preset');
  const options: CheckOptions = {
    level,
    env: io.env,
    ...(kubeVersion ? { kubeVersion } : {}),
    ...(presetSpec ? { preset: await loadPreset(presetSpec, io.cwd) } : {}),
  };

  const report = manifests !== undefined
    ? await checkManifests(manifests, io.cwd, io.stdin, options)
    : await checkService(args.positionals[0] ?? '.', io.cwd, options);

  const output = stringFlag(args, 'output');
  if (output) {
    await writeFile(resolve(io.cwd, output), formatReport(report, format));
    io.stdout.write(formatTable(report));
  } else io.stdout.write(formatReport(report, format));
  return reportExitCode(report);
}
