import type { NodePlopAPI } from 'node-plop';
import type { FileTree } from '../core/file-tree.js';
import type { TemplateEngine } from '../core/render/handlebars-env.js';
import { renderTemplateFolder } from '../core/render/render-template-folder.js';
import { activeFeatures, features } from './features/index.js';
import type { Answers } from '../core/options.js';

/**
 * The `create` generator as node-plop data: one `renderFeature` action per active feature, then a
 * `deriveFiles` action for each feature that derives files from the rendered tree. The custom action
 * renders into an in-memory tree instead of the disk, so that dry runs, atomic writes, upgrades and snapshot
 * tests all share this one path. Prompts are not plop's: they come from the options model (core/options.ts).
 */
export function registerGenerators(plop: NodePlopAPI, tree: FileTree, engine: TemplateEngine): void {
  plop.setActionType('renderFeature', async (data, config) => {
    const feature = features.find((f) => f.name === config.feature);
    if (!feature) throw new Error(`unknown feature ${String(config.feature)}`);
    const count = await renderTemplateFolder(feature.templateDir, data, engine, tree);
    return `${feature.name}: ${count} files`;
  });

  plop.setActionType('deriveFiles', async (data, config) => {
    const feature = features.find((f) => f.name === config.feature);
    await feature?.derive?.(tree, data as Answers);
    return `${String(config.feature)}: derived files`;
  });

  plop.setGenerator('create', {
    description: 'a hardened Node.js service',
    prompts: [],
    actions: (data) => {
      const active = activeFeatures(data as Answers);
      return [
        ...active.map((f) => ({ type: 'renderFeature', feature: f.name })),
        ...active.filter((f) => f.derive).map((f) => ({ type: 'deriveFiles', feature: f.name })),
      ];
    },
  });
}
