import { join } from 'node:path';
import type { FileTree } from '../file-tree.js';
import type { TemplateEngine } from './handlebars-env.js';
import { templateFolder } from './template-folders.js';

/** npm drops these from published packages, so templates keep them under another name. */
const PUBLISH_SAFE_NAMES: Record<string, string> = { _gitignore: '.gitignore', _npmrc: '.npmrc' };

export function outputPath(templatePath: string): string {
  return templatePath
    .split('/')
    .map((segment) => PUBLISH_SAFE_NAMES[segment] ?? segment)
    .join('/')
    .replace(/\.hbs$/, '');
}

/**
 * Adds one template folder (`templates/<folder>`) to the tree. Only `*.hbs` files go through Handlebars; everything
 * else is copied byte for byte, so Helm `{{ }}` and Actions `${{ }}` survive untouched. A `.hbs` file that renders
 * to nothing but white space is left out: that is how a template makes itself conditional. Every render gets
 * buffers of its own.
 */
export async function renderTemplateFolder(folder: string, context: object, engine: TemplateEngine, tree: FileTree): Promise<number> {
  let written = 0;
  for (const file of await templateFolder(folder)) {
    const target = outputPath(file.path);
    if (tree.has(target)) throw new Error(`two templates produce ${target} (second one: ${join(folder, file.path)})`);
    if (!('template' in file)) {
      tree.set(target, 'text' in file ? Buffer.from(file.text, 'utf8') : Buffer.from(file.base64, 'base64'));
      written++;
      continue;
    }
    const text = await engine.render(file.template, context, file.path);
    if (text.trim() === '') continue;
    tree.set(target, Buffer.from(text, 'utf8'));
    written++;
  }
  return written;
}
