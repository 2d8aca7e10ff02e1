import { generatorVersion } from '../package-root.js';
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

/** Stable JSON (data/check-report.schema.json describes it). */
export function formatJson(report: CheckReport): string {
  const json = {
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
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** SARIF 2.1.0 for GitHub code scanning: every rule's metadata, results with physical locations. */
export function formatSarif(report: CheckReport): string {
  const rules = checkRules.filter((r) => (r.modes as readonly string[]).includes(report.mode));
  const index = new Map(rules.map((r, i) => [r.id as string, i]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
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
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

export function formatReport(report: CheckReport, format: ReportFormat): string {
  return format === 'json' ? formatJson(report) : format === 'sarif' ? formatSarif(report) : formatTable(report);
}
