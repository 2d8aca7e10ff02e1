import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePaths, type FileTree } from '../file-tree.js';
import type { TemplateEngine } from './handlebars-env.js';

/** npm drops these from published packages, so templates keep them under another name. */
const PUBLISH_SAFE_NAMES: Record<string, string> = { _gitignore: '.gitignore', _npmrc: '.npmrc' };

function listFiles(dir: string, prefix = ''): string[] {
  const entries = readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => comparePaths(a.name, b.name));
  const rel = (name: string) => (prefix ? `${prefix}/${name}` : name);
  return entries.flatMap((entry) => (entry.isDirectory() ? listFiles(dir, rel(entry.name)) : entry.isFile() ? [rel(entry.name)] : []));
}

/**
 * The files of a template folder, in order, read once per process: a fleet upgrade renders one service after
 * another from the same templates. Read synchronously: a few dozen small files cost less than the thread-pool
 * round trips of async reads. Callers get copies, so nothing they do to the bytes reaches the next render.
 */
const templateDirs = new Map<string, [string, Buffer][]>();
function readTemplateDir(dir: string): [string, Buffer][] {
  let files = templateDirs.get(dir);
  if (!files) {
    files = listFiles(dir).map((rel): [string, Buffer] => [rel, readFileSync(join(dir, rel))]);
    templateDirs.set(dir, files);
  }
  return files.map(([rel, bytes]) => [rel, Buffer.from(bytes)]);
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
  for (const [rel, bytes] of readTemplateDir(dir)) {
    const target = outputPath(rel);
    if (tree.has(target)) throw new Error(`two templates produce ${target} (second one: ${join(dir, rel)})`);
    if (!rel.endsWith('.hbs')) {
      tree.set(target, bytes);
      written++;
      continue;
    }
    const text = await engine.render(bytes.toString('utf8'), context, rel);
    if (text.trim() === '') continue;
    tree.set(target, Buffer.from(text, 'utf8'));
    written++;
  }
  return written;
}

export async function loadPartials(dir: string): Promise<Record<string, string>> {
  const partials: Record<string, string> = {};
  for (const [rel, bytes] of existsSync(dir) ? readTemplateDir(dir) : []) {
    if (rel.endsWith('.hbs')) partials[rel.replace(/\.hbs$/, '')] = bytes.toString('utf8');
  }
  return partials;
}
