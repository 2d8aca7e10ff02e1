import nodePlop from 'node-plop';
import { features } from '../generators/features/index.js';
import type { Answers } from '../core/options.js';
import { registerGenerators } from '../generators/plopfile.js';
import { GenerationError } from './errors.js';
import { comparePaths, type FileTree } from '../core/file-tree.js';
import { generatorVersion, packageRoot } from '../core/package-root.js';
import { createTemplateEngine } from '../core/render/handlebars-env.js';
import { templateFolder } from '../core/render/template-folders.js';

/** Everything templates can refer to: the answers, each feature's derived values, and the generator. */
export function templateContext(answers: Answers): Record<string, unknown> {
  const derived = Object.assign({}, ...features.map((f) => f.context?.(answers) ?? {}));
  return { ...answers, ...derived, generator: { name: 'create-hardened-service', version: generatorVersion } };
}

/** Renders a whole service into memory. Nothing touches the disk. */
export async function renderService(answers: Answers): Promise<FileTree> {
  const tree: FileTree = new Map();
  const engine = await createTemplateEngine(await templateFolder('_partials'));
  // Our actions render into the tree: plop's own (which write below destBasePath) are never used.
  const plop = await nodePlop(undefined, { destBasePath: packageRoot, force: false });
  registerGenerators(plop, tree, engine);
  const { failures } = await plop.getGenerator('create').runActions(templateContext(answers));
  // node-plop reports failures instead of throwing: surface the first real one.
  const failure = failures.find((f) => !String(f.error).startsWith('Aborted due to previous'));
  if (failure) throw new GenerationError(`rendering failed: ${failure.error}`);
  return new Map([...tree.entries()].sort(([a], [b]) => comparePaths(a, b)));
}
