#!/usr/bin/env node
// Builds the published CLI the way create-vite does: one tree-shaken ESM bundle of lib/cli/main.ts and
// everything it imports (our code and the npm packages), so `npx create-hardened-service` installs one package.
// Whatever main.ts reaches is bundled: new commands and modules are picked up without touching this file.
//
// - Dynamic `import()`s stay lazy: each becomes its own chunk (prompts only for interactive runs; the
//   template engine and node-plop only on paths that render), so --help and --version stay cheap.
// - Templates are compiled into the bundle: one lazy chunk per template folder (templates/<folder>), each `.hbs`
//   precompiled by Handlebars, every other file as its text. A generation reads no template file and compiles no
//   template; it loads the folders its answers need (see templateFoldersCompiled below).
// - Runtime data (data/) is not bundled: core/package-root.ts finds it by walking up from the chunk to this
//   package.json.
// - Licences: every bundled package's licence text goes to dist/THIRD_PARTY_NOTICES.md, and the few
//   /*! ... */ or @license comments stay in dist/*.LEGAL.txt (esbuild legalComments: 'linked').
//
// Usage: tsx scripts/build.mjs [--analyze]   (--analyze prints what takes the space in each chunk; tsx: this
// script imports the template folder reader and the compile options from the sources, so there is one of each)
import AjvModule from 'ajv';
import standaloneCodeModule from 'ajv/dist/standalone/index.js';
import { build } from 'esbuild';
import Handlebars from 'handlebars';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPILE_OPTIONS } from '../core/render/handlebars-env.ts';
import { readTemplateFile, templateFolderPaths } from '../core/render/template-folders.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * Packages that must stay external (installed, not bundled). Keep this empty: anything listed here must be
 * a runtime dependency in package.json, and every one costs each `npx` user a download.
 */
const EXTERNAL = Object.keys(pkg.dependencies ?? {});

/**
 * node-plop imports, at its top level, packages for features our generators never use: inquirer 9 (and with
 * it rxjs) for plop's own prompts (questions come from core/options.ts through @inquirer/prompts),
 * tinyglobby (and picomatch) for the addMany action, resolve for plop.load() of plop packs, Handlebars'
 * compiler for renderString() of the built-in actions' paths, isbinaryfile for the built-in add actions, and
 * change-case and title-case for its built-in case helpers (our generators are registered in code and render
 * through their own actions and engine, whose helpers are the format escapers). For node-plop only, each
 * becomes a stub that fails loudly if it is ever called (Handlebars: the runtime, without compile): ~1 MB less
 * bundle, and less to parse and run on every generation (change-case's Unicode-property regular expressions
 * alone are compiled on import).
 */
const PLOP_UNUSED = {
  inquirer: 'export default { prompt: fail, createPromptModule: () => fail, registerPrompt() {} };',
  tinyglobby: 'export const globSync = fail;',
  resolve: 'export default { sync: fail };',
  handlebars: "import runtime from 'handlebars/runtime.js';\nexport default Object.assign(runtime.create(), { compile: fail });",
  isbinaryfile: 'export const isBinaryFileSync = fail;',
  'change-case': ['camelCase', 'snakeCase', 'dotCase', 'pathCase', 'sentenceCase', 'constantCase', 'kebabCase', 'pascalCase'].map((f) => `export const ${f} = fail;`).join('\n'),
  'title-case': 'export const titleCase = fail;',
};
const stubPlopUnused = {
  name: 'stub-node-plop-unused',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(PLOP_UNUSED).join('|')})$`);
    b.onResolve({ filter }, (args) =>
      args.importer.includes(`${sep}node-plop${sep}`) ? { path: args.path, namespace: 'plop-unused-stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'plop-unused-stub' }, (args) => ({
      contents: `const fail = () => { throw new Error('node-plop: ${args.path} is not used by create-hardened-service'); };\n${PLOP_UNUSED[args.path]}`,
      loader: 'js',
      resolveDir: root,
    }));
  },
};

/**
 * Handlebars' compiler loads source-map only to build source maps of compiled templates, inside a try/catch
 * with its own fallback when the module is missing. We never ask for source maps (and templates come
 * precompiled), so leave it out: 42 KB less to parse on every run.
 */
const dropHandlebarsSourceMap = {
  name: 'drop-handlebars-source-map',
  setup(b) {
    b.onResolve({ filter: /^source-map$/ }, (args) =>
      args.importer.includes(`${sep}handlebars${sep}`) ? { path: 'source-map', namespace: 'no-source-map' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-source-map' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

/**
 * The manifest's JSON schema (data/manifest.schema.json) is compiled here, once, into the validation code ajv
 * would generate at run time (ajv "standalone" mode): the bundle gets ~10 KB of plain checks instead of ajv's
 * compiler (~120 KB) and the schema file. In development lib/manifest-schema-validator.ts compiles the same
 * schema with the same options (AJV_OPTIONS there).
 */
const manifestValidatorStandalone = {
  name: 'manifest-validator-standalone',
  setup(b) {
    b.onLoad({ filter: /[\\/]lib[\\/]manifest-schema-validator\.ts$/ }, () => {
      const Ajv = AjvModule.default ?? AjvModule;
      const standaloneCode = standaloneCodeModule.default ?? standaloneCodeModule;
      const schema = JSON.parse(readFileSync(join(root, 'data', 'manifest.schema.json'), 'utf8'));
      const ajv = new Ajv({ strict: true, allErrors: false, code: { source: true, esm: true } });
      ajv.addSchema(schema);
      return { contents: standaloneCode(ajv, { validateManifestSchema: schema.$id }), loader: 'js', resolveDir: root };
    });
  },
};

/**
 * The template folders, compiled into the bundle: core/render/template-folders.ts (which reads templates/ from
 * disk when running from the sources) becomes a module that holds every folder's files in the same form
 * (readTemplateFile), with each `.hbs` precompiled by Handlebars with the engine's COMPILE_OPTIONS. It lands in
 * the chunk of the code that renders, so a generation reads no template file, hashes none and compiles none.
 */
const templateFoldersCompiled = {
  name: 'template-folders-compiled',
  setup(b) {
    b.onLoad({ filter: /[\\/]core[\\/]render[\\/]template-folders\.ts$/ }, () => {
      const templatesDir = join(root, 'templates');
      const folders = readdirSync(templatesDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
      const compiled = folders.map((folder) => {
        const dir = join(templatesDir, folder);
        const files = templateFolderPaths(dir).map((path) => {
          const file = readTemplateFile(dir, path);
          return 'template' in file ? `{ path: ${JSON.stringify(path)}, template: ${Handlebars.precompile(file.template, COMPILE_OPTIONS)} }` : JSON.stringify(file);
        });
        return `${JSON.stringify(folder)}: [\n${files.join(',\n')}\n]`;
      });
      const contents = [
        '// Generated by scripts/build.mjs from templates/ in place of core/render/template-folders.ts.',
        `const FOLDERS = {\n${compiled.join(',\n')}\n};`,
        'export async function templateFolder(folder) {',
        '  if (!Object.hasOwn(FOLDERS, folder)) throw new Error(`no template folder ${folder} in this build`);',
        '  return FOLDERS[folder];',
        '}',
      ].join('\n');
      return { contents, loader: 'js' };
    });
  },
};

/**
 * The schema validators compile RE2 patterns through re2-wasm, an Emscripten module that does not run bundled.
 * The one such pattern among the bundled kinds (CiliumNetworkPolicy's log values, `^\\PC*$`: no control or
 * other invisible characters) means the same to JavaScript's RegExp with the `u` flag once the one-letter
 * Unicode class is spelled with braces (`\\P{C}`); anything else fails loudly instead of matching wrongly.
 */
const re2AsRegExp = {
  name: 're2-as-regexp',
  setup(b) {
    b.onResolve({ filter: /^@kubernetes-models\/validate\/runtime\/re2$/ }, () => ({ path: 're2', namespace: 're2-as-regexp' }));
    b.onLoad({ filter: /.*/, namespace: 're2-as-regexp' }, () => ({
      contents: [
        'export default function RE2(pattern, flags) {',
        "  if (pattern !== '^\\\\PC*$') throw new Error(`RE2 pattern ${pattern}: no RegExp equivalent in this build (scripts/build.mjs re2AsRegExp)`);",
        "  return new RegExp('^\\\\P{C}*$', flags.includes('u') ? flags : `${flags}u`);",
        '}',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  // The fleet upgrade's worker threads start from their own entry (lib/cli/upgrade-workers.ts finds it).
  entryPoints: { cli: 'lib/cli/main.ts', 'upgrade-worker': 'lib/cli/upgrade-worker.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  plugins: [stubPlopUnused, dropHandlebarsSourceMap, manifestValidatorStandalone, templateFoldersCompiled, re2AsRegExp],
  // Bundled CommonJS (handlebars, fs-extra) calls require() for Node built-ins: give ESM chunks a real one.
  banner: { js: "import { createRequire as __chsCreateRequire } from 'node:module'; const require = __chsCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  minifyWhitespace: true,
  minifySyntax: true,
  // Identifiers stay readable: error messages and DEBUG=1 stacks still name our functions.
  minifyIdentifiers: false,
  treeShaking: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});

/** The package (name, folder) a bundled input file belongs to, or undefined for our own sources. */
function packageOf(input) {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const name = parts[at + 1]?.startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1];
  return { name, dir: join(root, ...parts.slice(0, at + 1), ...name.split('/')) };
}

const bundled = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const p = packageOf(input);
  if (p && !bundled.has(p.name)) bundled.set(p.name, p.dir);
}

const notices = [
  '# Third-party notices',
  '',
  `dist/ of create-hardened-service ${pkg.version} bundles the following packages. Their licences follow.`,
  '',
];
for (const [name, dir] of [...bundled].sort(([a], [b]) => a.localeCompare(b))) {
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const licenseFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  notices.push(`## ${name}@${meta.version} (${meta.license ?? 'see below'})`, '');
  if (licenseFile) notices.push('```', readFileSync(join(dir, licenseFile), 'utf8').trim(), '```', '');
  else if (!meta.license) throw new Error(`${name}: no licence found: check before bundling it`);
  else notices.push(`No licence file in the package; package.json says ${meta.license}.`, '');
}
writeFileSync(join(outdir, 'THIRD_PARTY_NOTICES.md'), `${notices.join('\n')}\n`);

// Remove what earlier builds left (old chunks, tsc output of `npm run build:modules`): written first, swept
// after, so that a CLI started during a rebuild still finds its files.
const keep = new Set([...Object.keys(result.metafile.outputs).map((o) => join(root, o)), join(outdir, 'THIRD_PARTY_NOTICES.md')]);
for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
  const path = join(entry.parentPath, entry.name);
  if (entry.isFile() && !keep.has(path)) rmSync(path, { force: true });
}
for (const entry of readdirSync(outdir, { withFileTypes: true })) {
  if (entry.isDirectory() && readdirSync(join(outdir, entry.name), { recursive: true, withFileTypes: true }).every((e) => !e.isFile())) {
    rmSync(join(outdir, entry.name), { recursive: true, force: true });
  }
}

if (process.argv.includes('--analyze')) {
  for (const [out, info] of Object.entries(result.metafile.outputs)) {
    if (!out.endsWith('.js')) continue;
    const byPackage = new Map();
    for (const [input, { bytesInOutput }] of Object.entries(info.inputs)) {
      const key = packageOf(input)?.name ?? '(ours)';
      byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    }
    const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${(v / 1024).toFixed(0)}k`);
    console.log(`${relative(root, out)} ${(info.bytes / 1024).toFixed(0)} KiB: ${top.join(', ')}`);
  }
}
if (!existsSync(join(outdir, 'cli.js'))) throw new Error('build: dist/cli.js was not written');
