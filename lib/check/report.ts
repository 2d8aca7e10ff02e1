import { generatorVersion } from '../../core/package-root.js';
import type { CheckReport } from './run-check.js';
import { checkRules, ruleById } from './rules.js';

export type ReportFormat = 'table' | 'json' | 'sarif';
export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'json', 'sarif'];

const INFORMATION_URI = 'https://www.npmjs.com/package/create-hardened-service';

/** The readable report: one block per finding (file, rule, what, why, fix), then every rule's status. */
export function formatTable(report: CheckReport): string {
  const out: string[] = [];
  const what = report.mode === 'service' ? `service ${report.target}` : `manifests ${report.target}`;
  out.push(
    `create-hardened-service ${report.generatorVersion} check: ${what} (Kubernetes ${report.kubernetesVersion}, Pod Security ${report.podSecurityLevel}${report.preset ? `, preset ${report.preset}` : ''})`,
  );
  if (report.renders.length) out.push(`chart rendered with: ${report.renders.join(', ')}`);
  out.push('');
  for (const f of report.findings) {
    const rule = ruleById(f.ruleId);
    out.push(`${f.level === 'error' ? 'FAIL' : 'WARN'} ${f.ruleId} ${f.file}${f.line ? `:${f.line}` : ''}`);
    out.push(`     ${f.message}`);
    out.push(`     why: ${rule.why}`);
    out.push(`     fix: ${rule.fix}`);
    out.push('');
  }
  const width = Math.max(...report.rules.map((r) => r.rule.id.length));
  out.push('Rules:');
  for (const r of report.rules) {
    const count = report.findings.filter((f) => f.ruleId === r.rule.id).length;
    const status = { pass: 'pass', fail: 'FAIL', warn: 'warn', skip: 'skip' }[r.status];
    out.push(`  ${status}  ${r.rule.id.padEnd(width)}  ${r.rule.title}${count ? ` (${count})` : ''}${r.note ? ` — skipped: ${r.note}` : ''}`);
  }
  const tally = (s: string) => report.rules.filter((r) => r.status === s).length;
  out.push('');
  out.push(
    `${report.rules.length} rules: ${tally('pass')} passed, ${tally('fail')} failed, ${tally('warn')} with warnings, ${tally('skip')} skipped; ${report.findings.filter((f) => f.level === 'error').length} errors, ${report.findings.filter((f) => f.level === 'warning').length} warnings`,
  );
  return `${out.join('\n')}\n`;
}

/** The JSON report of one audit as an object (data/check-report.schema.json describes it). */
export function jsonReport(report: CheckReport) {
  return {
    schemaVersion: 1,
    tool: { name: 'create-hardened-service', version: generatorVersion },
    mode: report.mode,
    target: report.target,
    kubernetesVersion: report.kubernetesVersion,
    podSecurityLevel: report.podSecurityLevel,
    ...(report.preset ? { preset: report.preset } : {}),
    renders: report.renders,
    passed: !report.rules.some((r) => r.status === 'fail'),
    summary: {
      rules: report.rules.length,
      passed: report.rules.filter((r) => r.status === 'pass').length,
      failed: report.rules.filter((r) => r.status === 'fail').length,
      warned: report.rules.filter((r) => r.status === 'warn').length,
      skipped: report.rules.filter((r) => r.status === 'skip').length,
      errors: report.findings.filter((f) => f.level === 'error').length,
      warnings: report.findings.filter((f) => f.level === 'warning').length,
    },
    rules: report.rules.map((r) => ({ id: r.rule.id, name: r.rule.name, title: r.rule.title, status: r.status, ...(r.note ? { note: r.note } : {}) })),
    findings: report.findings.map((f) => {
      const rule = ruleById(f.ruleId);
      return { ruleId: f.ruleId, level: f.level, file: f.file, ...(f.line ? { line: f.line } : {}), message: f.message, why: rule.why, fix: rule.fix };
    }),
  };
}

/** Stable JSON: one report, or (a fleet) a list of them. */
export function formatJson(report: CheckReport | CheckReport[]): string {
  return `${JSON.stringify(Array.isArray(report) ? report.map(jsonReport) : jsonReport(report), null, 2)}\n`;
}

/** One SARIF run: every rule's metadata, results with physical locations. */
function sarifRun(report: CheckReport) {
  const rules = checkRules.filter((r) => (r.modes as readonly string[]).includes(report.mode));
  const index = new Map(rules.map((r, i) => [r.id as string, i]));
  return {
    tool: {
      driver: {
        name: 'create-hardened-service',
        semanticVersion: generatorVersion,
        version: generatorVersion,
        informationUri: INFORMATION_URI,
        rules: rules.map((r) => ({
          id: r.id,
          name: r.name,
          shortDescription: { text: r.title },
          fullDescription: { text: r.why },
          help: { text: `${r.why}\nFix: ${r.fix}`, markdown: `${r.why}\n\n**Fix:** ${r.fix}` },
          defaultConfiguration: { level: 'error' },
          properties: { tags: r.tags, precision: 'high', 'problem.severity': 'error' },
        })),
      },
    },
    originalUriBaseIds: report.mode === 'service' ? { SRCROOT: { description: { text: 'The audited service directory' } } } : {},
    results: report.findings.map((f) => ({
      ruleId: f.ruleId,
      ruleIndex: index.get(f.ruleId) ?? 0,
      level: f.level,
      message: { text: `${f.message}. Fix: ${ruleById(f.ruleId).fix}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: encodeURI(f.file), ...(report.mode === 'service' ? { uriBaseId: 'SRCROOT' } : {}) },
            region: { startLine: f.line ?? 1 },
          },
        },
      ],
    })),
    invocations: [{ executionSuccessful: true }],
  };
}

/**
 * SARIF 2.1.0 for GitHub code scanning: one run per audited service. (Code scanning keeps one upload per
 * category: upload a fleet's log from the fleet's repository, or one service's from its own.)
 */
export function formatSarif(report: CheckReport | CheckReport[]): string {
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: (Array.isArray(report) ? report : [report]).map(sarifRun),
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

export function formatReport(report: CheckReport, format: ReportFormat): string {
  return format === 'json' ? formatJson(report) : format === 'sarif' ? formatSarif(report) : formatTable(report);
}

/** A fleet audit's line for one service: `svc-a: FAIL (2 rules failed: CHS-NS-001, CHS-PSS-002; 1 warning)`. */
export function summaryLine(display: string, report: CheckReport): string {
  const failed = report.rules.filter((r) => r.status === 'fail').map((r) => r.rule.id);
  const errors = report.findings.filter((f) => f.level === 'error').length;
  const warnings = report.findings.filter((f) => f.level === 'warning').length;
  const tail = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  return failed.length
    ? `${display}: FAIL (${failed.length} rule${failed.length === 1 ? '' : 's'} failed: ${failed.join(', ')}; ${tail})`
    : `${display}: pass (${report.rules.filter((r) => r.status === 'pass').length}/${report.rules.length} rules passed; ${tail})`;
}
