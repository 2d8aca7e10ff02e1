import { describe, expect, it } from 'vitest';
import { nodeLine, versions } from '../core/versions.js';
import { renderText } from './support/ci-workflows.js';

function tableRows(markdown: string, firstHeader: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  expect(start, firstHeader).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

describe('SECURITY.md', () => {
  it.each(['github', 'gitlab'])('has one row for each of OWASP Docker Top 10 D01-D10 (%s)', async (ci) => {
    const doc = (await renderText({ ci })).get('SECURITY.md')!;
    const rows = tableRows(doc, '#');
    expect(rows.map((r) => r[0])).toEqual(['D01', 'D02', 'D03', 'D04', 'D05', 'D06', 'D07', 'D08', 'D09', 'D10']);
    for (const row of rows) expect(row[2]!.length, row[0]).toBeGreaterThan(60);
    expect(doc).toContain(ci === 'github' ? 'Report a vulnerability' : 'confidential issue');
    expect(doc).toContain('Do not open a public issue');
  });

  it.each([22, 24, 26])('its end-of-life table matches data/versions.json (Node %i)', async (major) => {
    const doc = (await renderText({ nodeVersion: String(major) })).get('SECURITY.md')!;
    const line = nodeLine(major);
    const { debian } = versions;
    const rows = tableRows(doc, 'Component');
    const k8s = versions.kubernetes.minors.find((m) => m.minor === versions.kubernetes.minor)!;
    expect(rows).toEqual([
      [`Node.js ${major} (${line.status})`, line.endOfLife],
      [`Debian 13 "trixie", the base image's OS: regular security support (Debian LTS until ${debian.ltsEnds})`, debian.securitySupportEnds],
      [`Base image ${line.runtime.image}:${line.runtime.tag} (the first of Node.js ${major} and Debian 13 to end)`, [line.endOfLife, debian.securitySupportEnds].sort()[0]],
      [`Kubernetes ${versions.kubernetes.minor} (pinned minor; Chart.yaml refuses minors older than ${versions.kubernetes.minor})`, k8s.endOfLife],
    ]);
    expect(line.runtime.image).toMatch(new RegExp(`-debian${debian.release}$`));
    expect(debian.source).toMatch(/wiki\.debian\.org\/LTS/);
  });

  it.each(['github', 'gitlab'])('has a deadline for every severity and an emergency procedure (%s)', async (ci) => {
    const doc = (await renderText({ ci })).get('SECURITY.md')!;
    expect(tableRows(doc, 'Severity').map((r) => r[0])).toEqual(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']);
    for (const row of tableRows(doc, 'Severity')) expect(row[1]).toMatch(/^\d+ days/);
    expect(doc).toMatch(/Emergency procedure[^\n]*\n\n1\. .*\n2\. .*\n3\. .*\n4\. .*\n5\. /);
  });

  it('says where accepted findings live, and .trivyignore asks for a reason and an expiry', async () => {
    const files = await renderText();
    const doc = files.get('SECURITY.md')!;
    expect(doc).toContain('`.trivyignore`');
    expect(doc).toMatch(/with a comment[\s\S]*why it is accepted/);
    const ignore = files.get('.trivyignore')!;
    // Nothing is accepted out of the box: every line is a comment.
    expect(ignore.split('\n').filter((l) => l.trim() && !l.startsWith('#'))).toEqual([]);
    expect(ignore).toContain('exp:');
  });

  it('escapes free text: a hostile description cannot open a link or a table cell', async () => {
    const doc = (await renderText({ description: 'x | [link](http://evil) <script>' })).get('SECURITY.md')!;
    expect(doc).not.toContain('[link](http://evil)');
    expect(doc).not.toContain('<script>');
    expect(doc).toContain('x \\| \\[link\\](http://evil) &lt;script>');
  });
});
