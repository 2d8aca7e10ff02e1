import type Handlebars from 'handlebars';
import { isUtf8 } from 'node:buffer';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { comparePaths } from '../file-tree.js';
import { templatesRoot } from '../package-root.js';

/** What Handlebars' precompiler makes of a template (the build's form of every `.hbs`). */
export type PrecompiledTemplate = Parameters<typeof Handlebars.template>[0];

/** A `.hbs` file's Handlebars source, or the build's precompiled form of it. */
export type TemplateSource = string | PrecompiledTemplate;

/**
 * One file of a template folder (`templates/<folder>/` mirrors the tree it emits), by its path in the folder:
 * a Handlebars template (`.hbs`), or a file copied byte for byte (as text, or base64 when it is not UTF-8).
 */
export type TemplateFile = { path: string } & ({ template: TemplateSource } | { text: string } | { base64: string });

/** Reads one template file as the build compiles it (scripts/build.mjs): a `.hbs` as its source, others by content. */
export function readTemplateFile(folderDir: string, path: string): TemplateFile {
  const bytes = readFileSync(join(folderDir, path));
  if (path.endsWith('.hbs')) return { path, template: bytes.toString('utf8') };
  return isUtf8(bytes) ? { path, text: bytes.toString('utf8') } : { path, base64: bytes.toString('base64') };
}

/** The paths of a folder's files, POSIX, in path order. */
export function templateFolderPaths(folderDir: string): string[] {
  return readdirSync(folderDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(folderDir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort(comparePaths);
}

const folders = new Map<string, TemplateFile[]>();

/**
 * The files of `templates/<folder>`, read once per process (a fleet upgrade renders one service after another).
 * This is what runs from the sources (tests, scripts): templates are read from disk and compiled when first
 * rendered. The published bundle replaces this module with one that imports each folder as a module the build
 * compiled (scripts/build.mjs), so a generation reads no template file and compiles no template.
 */
export async function templateFolder(folder: string): Promise<readonly TemplateFile[]> {
  let files = folders.get(folder);
  if (!files) {
    const dir = join(templatesRoot, folder);
    files = templateFolderPaths(dir).map((path) => readTemplateFile(dir, path));
    folders.set(folder, files);
  }
  return files;
}
