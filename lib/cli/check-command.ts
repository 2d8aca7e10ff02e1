import { availableParallelism } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { UsageError } from '../errors.js';
import { formatJson, formatReport, formatSarif, formatTable, REPORT_FORMATS, type ReportFormat, summaryLine } from '../check/report.js';
import { type CheckOptions, type CheckReport, checkManifests, checkService, reportExitCode } from '../check/run-check.js';
import { mapLimited } from '../map-limited.js';
import { loadPreset, ORG_PRESET_ENV } from '../preset.js';
import { oneLine } from '../safe-read.js';
import { type CliIO, printer } from './io.js';
import type { ParsedArgs } from './parse-args.js';

function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

/** Service folders named on the command line; quoted globs are expanded here to the folders they match. */
async function serviceFolders(patterns: string[], cwd: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const pattern of patterns.length ? patterns : ['.']) {
    if (!/[*?[{]/.test(pattern)) {
      dirs.push(pattern);
      continue;
    }
    const matches = await glob(pattern, { cwd, onlyDirectories: true, expandDirectories: false });
    if (matches.length === 0) throw new UsageError(`no folder matches ${pattern}`);
    dirs.push(...matches.map((m) => m.replace(/\/$/, '')).sort());
  }
  return dirs;
}

/**
 * `check [dir...]` and `check --manifests <file|dir|->`: audit, print a report, exit 0 when every rule passes
 * (warnings allowed), 1 when any fails, 2 on bad usage. Several folders (or a quoted glob) give one summary
 * line per service; --format json/sarif then hold every service's report.
 */
export async function checkCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const format = (stringFlag(args, 'format') ?? 'table') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new UsageError(`--format ${format} is not one of: ${REPORT_FORMATS.join(', ')}`);
  const level = stringFlag(args, 'level') ?? 'restricted';
  if (level !== 'restricted' && level !== 'baseline') throw new UsageError(`--level ${level} is not one of: restricted, baseline`);
  const kubeVersion = stringFlag(args, 'kube-version');
  const manifests = stringFlag(args, 'manifests');
  if (manifests !== undefined && args.positionals.length > 0) {
    throw new UsageError(`give either service directories or --manifests, not both (got ${args.positionals.join(' ')})`);
  }
  // The organisation's preset: --preset, else the variable the platform team sets in CI.
  const presetSpec = stringFlag(args, 'preset') ?? (io.env[ORG_PRESET_ENV] || undefined);
  const options: CheckOptions = {
    level,
    env: io.env,
    ...(kubeVersion ? { kubeVersion } : {}),
    ...(presetSpec ? { preset: await loadPreset(presetSpec, io.cwd) } : {}),
  };
  const output = stringFlag(args, 'output');

  if (manifests !== undefined) return finish(await checkManifests(manifests, io.cwd, io.stdin, options), format, output, io);
  const dirs = await serviceFolders(args.positionals, io.cwd);
  if (dirs.length === 1) return finish(await checkService(dirs[0]!, io.cwd, options), format, output, io);

  // A fleet: every service is audited (one failing does not stop the others), one line each.
  const lines: string[] = [];
  const say = (text: string) => {
    const line = oneLine(text);
    lines.push(line);
    printer(format === 'table' || output ? io.stdout : io.stderr)(line);
  };
  const outcomes = await mapLimited(dirs, Math.max(1, Math.min(4, availableParallelism())), async (dir) => {
    const display = relative(io.cwd, resolve(io.cwd, dir)) || '.';
    try {
      const report = await checkService(dir, io.cwd, options);
      return { display, report, exitCode: reportExitCode(report) };
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      // A service that cannot be audited fails (exit 1); 2 is for a command that is wrong as a whole.
      return { display, error: message, exitCode: 1 };
    }
  });
  for (const o of outcomes) say('report' in o && o.report ? summaryLine(o.display, o.report) : `${o.display}: ERROR ${o.error}`);
  const reports = outcomes.flatMap((o) => ('report' in o && o.report ? [o.report] : []));
  const failed = outcomes.filter((o) => o.exitCode !== 0).length;
  say(`${dirs.length} services: ${dirs.length - failed} passed, ${failed} failed`);
  if (format === 'table' && output) await writeFile(resolve(io.cwd, output), `${lines.join('\n')}\n`);
  if (format !== 'table') {
    const text = format === 'json' ? formatJson(reports) : formatSarif(reports);
    if (output) await writeFile(resolve(io.cwd, output), text);
    else io.stdout.write(text);
  }
  return Math.max(0, ...outcomes.map((o) => o.exitCode));
}

async function finish(report: CheckReport, format: ReportFormat, output: string | undefined, io: CliIO): Promise<number> {
  if (output) {
    await writeFile(resolve(io.cwd, output), formatReport(report, format));
    io.stdout.write(formatTable(report));
  } else io.stdout.write(formatReport(report, format));
  return reportExitCode(report);
}
