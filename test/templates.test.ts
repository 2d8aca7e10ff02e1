import Handlebars from 'handlebars';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { features } from '../generators/features/index.js';
import { options } from '../core/options.js';
import { templatesRoot } from '../core/package-root.js';
import { outputPath } from '../core/render/render-template-folder.js';
import { decodeBase, MANIFEST_PATH, type Manifest } from '../lib/manifest.js';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';
import { listTree, runCli, tempDir } from './support/cli.js';
import { hostileValues } from './escape.test.js';

async function templateFiles(): Promise<string[]> {
  const entries = await readdir(templatesRoot, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(templatesRoot, join(e.parentPath, e.name))).sort();
}

const freeTextKeys = options.filter((o) => o.type === 'string' && o.freeText).map((o) => o.key);

/** Every {{value}} in a template that is a bare path (no helper around it). */
function bareMustaches(source: string): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; path?: { original?: string }; params?: unknown[] };
    if (n.type === 'MustacheStatement' && n.params?.length === 0 && n.path?.original) found.push(n.path.original);
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object') visit(value);
    }
  };
  visit(Handlebars.parse(source));
  return found;
}

describe('templates', () => {
  it('every free-text answer reaches a template only through a format escaper', async () => {
    const offenders: string[] = [];
    for (const file of (await templateFiles()).filter((f) => f.endsWith('.hbs'))) {
      const bare = bareMustaches(await readFile(join(templatesRoot, file), 'utf8'));
      for (const path of bare) if (freeTextKeys.includes(path)) offenders.push(`${file}: {{${path}}}`);
    }
    expect(offenders).toEqual([]);
  });

  it('files that are not .hbs are emitted byte for byte, Helm and Actions braces included', async () => {
    const answers = await answersFor();
    const tree = await renderService(answers);
    const active = features.filter((f) => f.when?.(answers) ?? true).map((f) => `${f.templateDir}/`);
    let checked = 0;
    for (const file of await templateFiles()) {
      const area = active.find((dir) => file.startsWith(dir));
      if (!area || file.endsWith('.hbs')) continue;
      const emitted = tree.get(outputPath(file.slice(area.length)));
      expect(emitted, file).toBeDefined();
      expect(emitted!.equals(await readFile(join(templatesRoot, file))), file).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('no HTML escaping and no swallowed `${{`: no &amp; &#x27; &quot; and no line ending in a lone $', async () => {
    const tree = await renderService(await answersFor());
    for (const [path, bytes] of tree) {
      const text = bytes.toString('utf8');
      expect(text, path).not.toMatch(/&amp;|&#x27;|&quot;|&#x3D;|&lt;|&gt;/);
      expect(text, path).not.toMatch(/(^|[^$\\])\$\s*$/m);
    }
  });

  it.each(hostileValues)('every JSON and YAML file parses and holds the description exactly: %j', async (description) => {
    const tree = await renderService(await answersFor('svc', { description }));
    const holders: string[] = [];
    const fragment = description.slice(0, 8);
    const visit = (value: unknown, path: string): void => {
      if (typeof value === 'string' && value.includes(fragment)) {
        // A value that holds part of the description holds all of it, unchanged: it was neither cut nor mangled.
        expect(value, path).toBe(description);
        holders.push(path);
      } else if (value && typeof value === 'object') for (const v of Object.values(value)) visit(v, path);
    };
    for (const [path, bytes] of tree) {
      const text = bytes.toString('utf8');
      if (/(^|\/)tsconfig[^/]*\.json$/.test(path)) {
        // tsconfig files are JSON with comments, read the way tsc reads them.
        const { error } = ts.parseConfigFileTextToJson(path, text);
        expect(error?.messageText, path).toBeUndefined();
      } else if (path.endsWith('.json')) visit(JSON.parse(text), path);
      // Helm templates (chart/templates/) are Go templates, not YAML, until helm renders them.
      if (/\.ya?ml$/.test(path) && !path.includes('/templates/')) {
        for (const doc of parseAllDocuments(text)) {
          expect(doc.errors, `${path}: ${doc.errors.join('; ')}`).toEqual([]);
          visit(doc.toJS(), path);
        }
      }
    }
    expect(holders).toContain('package.json');
  });
});

describe('rendering a fleet', () => {
  it('renders each distinct set of answers once per process: the same answers give the same bytes, in a Map of their own', async () => {
    const first = await renderService(await answersFor('fleet-a'));
    const again = await renderService(await answersFor('fleet-a'));
    expect(again).not.toBe(first);
    expect(again.get('Dockerfile')).toBe(first.get('Dockerfile'));
    again.delete('Dockerfile');
    expect((await renderService(await answersFor('fleet-a'))).has('Dockerfile')).toBe(true);
    const other = await renderService(await answersFor('fleet-b'));
    expect(other.get('Dockerfile')).not.toBe(first.get('Dockerfile'));
    expect(other.get('README.md')!.toString()).toContain('# fleet-b');
  });
});

describe('the bundle', () => {
  // npx runs dist/, whose templates the build precompiled (scripts/build.mjs); the tests above render from templates/.
  it.each([[[] as string[]], [['--framework', 'express', '--ci', 'gitlab', '--node-version', '22']]])('renders what the sources render, byte for byte: %j', async (flags) => {
    const parent = await tempDir();
    const run = await runCli(['svc', '--yes', ...flags], { cwd: parent });
    expect(run.exitCode, run.stderr).toBe(0);
    const given = Object.fromEntries(flags.flatMap((f, i) => (f.startsWith('--') ? [[f.slice(2).replace('node-version', 'nodeVersion'), flags[i + 1]]] : [])));
    const expected = await renderService(await answersFor(join(parent, 'svc'), given));
    const dir = join(parent, 'svc');
    const written = (await listTree(dir)).filter((p) => p !== MANIFEST_PATH);
    expect(written).toEqual([...expected.keys()]);
    for (const path of written) expect((await readFile(join(dir, path))).equals(expected.get(path)!), path).toBe(true);
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_PATH), 'utf8')) as Manifest;
    expect(decodeBase(manifest)).toEqual(expected);
  });
});
