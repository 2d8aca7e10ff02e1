import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileTree } from '../file-tree.js';
import type { TemplateEngine } from './handlebars-env.js';

/** npm drops these from published packages, so templates keep them under another name. */
const PUBLISH_SAFE_NAMES: Record<string, string> = { _gitignore: '.gitignore', _npmrc: '.npmrc' };

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const rel = (name: string) => (prefix ? `${prefix}/${name}` : name);
  // Sub-folders are listed concurrently; the result keeps the sorted, depth-first order.
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? listFiles(dir, rel(entry.name)) : entry.isFile() ? [rel(entry.name)] : [])),
  );
  return nested.flat();
}

/**
 * The files of a template folder, in order, read once per process: a fleet upgrade renders one service after
 * another from the same templates. Read concurrently (one round trip to the thread pool, not one per file).
 * Callers get copies, so nothing they do to the bytes reaches the next render.
 */
const templateDirs = new Map<string, Promise<[string, Buffer][]>>();
async function readTemplateDir(dir: string): Promise<[string, Buffer][]> {
  let files = templateDirs.get(dir);
  if (!files) {
    files = listFiles(dir).then((rels) => Promise.all(rels.map(async (rel): Promise<[string, Buffer]> => [rel, await readFile(join(dir, rel))])));
    templateDirs.set(dir, files);
    files.catch(() => templateDirs.delete(dir));
  }
  return (await files).map(([rel, bytes]) => [rel, Buffer.from(bytes)]);
}

export function outputPath(templatePath: string): string {
  return templatePath
    .split('/')
    .map((segment) => PUBLISH_SAFE_NAMES[segment] ?? segment)
    .join('/')
    .replace(/\.hbs$/, '');
}

/**
 * Adds one template folder to the tree. Only `*.hbs` files go through Handlebars; everything else is copied
 * byte for byte, so Helm `{{ }}` and Actions `${{ }}` survive untouched. A `.hbs` file that renders to
 * nothing but white space is left out: that is how a template makes itself conditional.
 */
export async function renderTemplateDir(
  dir: string,
  context: object,
  engine: TemplateEngine,
  tree: FileTree,
): Promise<number> {
  let written = 0;
  for (const [rel, bytes] of await readTemplateDir(dir)) {
    const target = outputPath(rel);
    if (tree.has(target)) throw new Error(`two templates produce ${target} (second one: ${join(dir, rel)})`);
    if (!rel.endsWith('.hbs')) {
      tree.set(target, bytes);
      written++;
      continue;
    }
    const text = engine.render(bytes.toString('utf8'), context, rel);
    if (text.trim() === '') continue;
    tree.set(target, Buffer.from(text, 'utf8'));
    written++;
  }
  return written;
}

export async function loadPartials(dir: string): Promise<Record<string, string>> {
  const partials: Record<string, string> = {};
  for (const rel of await listFiles(dir).catch(() => [] as string[])) {
    if (rel.endsWith('.hbs')) partials[rel.replace(/\.hbs$/, '')] = await readFile(join(dir, rel), 'utf8');
  }
  return partials;
}
