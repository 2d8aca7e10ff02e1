import nodePlop from 'node-plop';
import { features } from '../generators/features/index.js';
import { type Answers, options } from '../core/options.js';
import { registerGenerators } from '../generators/plopfile.js';
import { GenerationError } from './errors.js';
import { comparePaths, type FileTree } from '../core/file-tree.js';
import { generatorVersion, packageRoot } from '../core/package-root.js';
import { createTemplateEngine, type TemplateEngine } from '../core/render/handlebars-env.js';
import { templateFolder } from '../core/render/template-folders.js';

/** Everything templates can refer to: the answers, each feature's derived values, and the generator. */
export function templateContext(answers: Answers): Record<string, unknown> {
  const derived = Object.assign({}, ...features.map((f) => f.context?.(answers) ?? {}));
  return { ...answers, ...derived, generator: { name: 'create-hardened-service', version: generatorVersion } };
}

/** One template engine per process: each template is turned into a function once, however many services render. */
let engine: Promise<TemplateEngine> | undefined;

async function render(answers: Answers): Promise<FileTree> {
  const tree: FileTree = new Map();
  engine ??= templateFolder('_partials').then(createTemplateEngine);
  // Our actions render into the tree: plop's own (which write below destBasePath) are never used.
  const plop = await nodePlop(undefined, { destBasePath: packageRoot, force: false });
  registerGenerators(plop, tree, await engine);
  const { failures } = await plop.getGenerator('create').runActions(templateContext(answers));
  // node-plop reports failures instead of throwing: surface the first real one.
  const failure = failures.find((f) => !String(f.error).startsWith('Aborted due to previous'));
  if (failure) throw new GenerationError(`rendering failed: ${failure.error}`);
  return new Map([...tree.entries()].sort(([a], [b]) => comparePaths(a, b)));
}

/**
 * Renders made in this process, by answers (a fleet's services often share all of them): the most recent few,
 * so a fleet of hundreds does not hold hundreds of trees.
 */
const renders = new Map<string, Promise<FileTree>>();
const RENDERS_KEPT = 16;

/**
 * Renders a whole service into memory. Nothing touches the disk. Each distinct set of answers is rendered once
 * per process; callers get a Map of their own, whose buffers they must not modify.
 */
export async function renderService(answers: Answers): Promise<FileTree> {
  const key = JSON.stringify(options.map((o) => (answers as unknown as Record<string, unknown>)[o.key]));
  let tree = renders.get(key);
  if (!tree) {
    tree = render(answers);
    renders.set(key, tree);
    tree.catch(() => renders.delete(key));
    if (renders.size > RENDERS_KEPT) renders.delete(renders.keys().next().value!);
  }
  return new Map(await tree);
}
