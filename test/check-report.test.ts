import AjvModule from 'ajv';
import AjvDraft04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatJson, formatSarif, formatTable } from '../lib/check/report.js';
import { checkRules } from '../lib/check/rules.js';
import { repoRoot } from './support/cli.js';
import { audit, auditManifests, generatedService } from './support/check.js';
import { rm } from 'node:fs/promises';

// CommonJS packages: the class is the module's default export under Node's interop, the module itself under Vite's.
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as typeof AjvModule.default;
const AjvDraft04 = ((AjvDraft04Module as unknown as { default?: unknown }).default ?? AjvDraft04Module) as typeof AjvDraft04Module.default;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default;

const sarifSchema = JSON.parse(await readFile(join(repoRoot, 'test/fixtures/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
const jsonSchema = JSON.parse(await readFile(join(repoRoot, 'data/check-report.schema.json'), 'utf8'));
// The schema's language-tag pattern is not a valid Unicode-mode regex: compile patterns as JSON Schema
// draft-04 (ECMA 262 without the u flag) does. Its formats (uri, uri-reference, date-time) are checked, not ignored.
const validateSarif = addFormats(new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false })).compile(sarifSchema);
const validateJson = new Ajv({ allErrors: true, strict: true }).compile(jsonSchema);

async function reports() {
  const clean = await audit(await generatedService());
  const weak = await generatedService();
  await rm(join(weak, 'chart/templates/networkpolicy.yaml'));
  await rm(join(weak, '.dockerignore'));
  return { clean, weak: await audit(weak), manifests: await auditManifests('test/fixtures/manifests') };
}

describe('check reports', () => {
  it('every rule appears in check --help, the README table and the report schema', async () => {
    const { helpText } = await import('../lib/cli/help.js');
    const help = helpText('0.0.0', 'check');
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    for (const r of checkRules) {
      expect(help).toContain(`${r.id.padEnd(16)}${r.title}`);
      expect(readme).toContain(`| \`${r.id}\` | ${r.title} |`);
    }
    expect(jsonSchema.definitions.ruleId.enum).toEqual(checkRules.map((r) => r.id));
  });

  it('rule ids are unique and stable in form, and every rule says why and how to fix', () => {
    const ids = checkRules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of checkRules) {
      expect(r.id).toMatch(/^CHS-[A-Z]+-\d{3}$/);
      expect(r.why.length).toBeGreaterThan(40);
      expect(r.fix.length).toBeGreaterThan(20);
    }
  });

  it('JSON validates against data/check-report.schema.json; SARIF against the SARIF 2.1.0 schema', async () => {
    for (const [name, report] of Object.entries(await reports())) {
      const json = JSON.parse(formatJson(report));
      expect(validateJson(json), `${name}: ${JSON.stringify(validateJson.errors)}`).toBe(true);
      const sarif = JSON.parse(formatSarif(report));
      expect(validateSarif(sarif), `${name}: ${JSON.stringify(validateSarif.errors?.slice(0, 3))}`).toBe(true);
      expect(sarif.version).toBe('2.1.0');
      const run = sarif.runs[0];
      expect(run.results).toHaveLength(report.findings.length);
      for (const result of run.results) {
        // Each result points at its rule's metadata and at a file.
        expect(run.tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId);
        expect(result.locations[0].physicalLocation.artifactLocation.uri).toMatch(/^[^/]/);
        expect(result.locations[0].physicalLocation.region.startLine).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('the schemas are real: a broken report fails them', async () => {
    const { weak } = await reports();
    const sarif = JSON.parse(formatSarif(weak));
    sarif.runs[0].results[0].level = 'fatal';
    expect(validateSarif(sarif)).toBe(false);
    // Formats are validated: a URI or a date that is not one fails.
    const badUri = JSON.parse(formatSarif(weak));
    badUri.runs[0].tool.driver.informationUri = 'not a uri';
    expect(validateSarif(badUri)).toBe(false);
    expect(validateSarif.errors?.[0]).toMatchObject({ keyword: 'format', params: { format: 'uri' } });
    const badDate = JSON.parse(formatSarif(weak));
    badDate.runs[0].invocations = [{ executionSuccessful: true, endTimeUtc: 'yesterday' }];
    expect(validateSarif(badDate)).toBe(false);
    expect(validateSarif.errors?.[0]).toMatchObject({ keyword: 'format', params: { format: 'date-time' } });
    const json = JSON.parse(formatJson(weak));
    json.findings[0].ruleId = 'PSS-1';
    expect(validateJson(json)).toBe(false);
  });

  it('the table names file, rule, what, why and fix for each finding, then every rule', async () => {
    const { weak } = await reports();
    const table = formatTable(weak);
    expect(table).toContain('FAIL CHS-NET-002 chart/templates/deployment.yaml');
    expect(table).toContain('FAIL CHS-DKR-003 .dockerignore');
    // The floor names the missing object where the generator renders it.
    expect(table).toContain('FAIL CHS-FLOOR-001 chart/templates/networkpolicy.yaml');
    expect(table).toMatch(/why: Each workload should open exactly the traffic it needs/);
    expect(table).toMatch(/fix: Add a NetworkPolicy whose podSelector/);
    for (const r of weak.rules) expect(table).toContain(r.rule.id);
    expect(table).toMatch(new RegExp(`${weak.rules.length} rules: \\d+ passed, 3 failed`));
  });
});
