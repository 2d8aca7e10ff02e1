import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FileTree } from '../../core/file-tree.js';
import { helmTemplate } from './helm.js';
import { type LocatedObject, splitManifests } from './kubernetes-rules.js';
import type { FloorRenders } from './generated-floor.js';

const CHART = 'chart/';

export interface RenderSettings {
  release: string;
  namespace: string;
  kubeVersion: string;
  /** --set for the render with the service's values: the stand-in image.repository, as the service's own render gets it. */
  set?: string[];
  /** --set for the render with the generator's defaults (no image.repository when CI names the image at run time). */
  defaultsSet?: string[];
  env?: NodeJS.ProcessEnv;
  /** Maps helm's `# Source:` to the service's file, so a floor object is named where the service has it. */
  toPath: (source: string) => string;
}

/**
 * The generator's own chart for the service's answers, written to a temporary folder so helm renders it exactly as
 * it renders the service's chart: the floor CHS-FLOOR-001 holds the service to. `close` removes the folder.
 */
export async function referenceChart(tree: FileTree): Promise<{ render: (valuesFiles: string[], settings: RenderSettings) => Promise<FloorRender>; close: () => Promise<void> } | undefined> {
  const files = [...tree].filter(([path]) => path.startsWith(CHART));
  if (files.length === 0) return undefined;
  const root = await mkdtemp(join(tmpdir(), 'chs-floor-'));
  for (const [path, bytes] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
  }
  const chartDir = join(root, CHART);
  return {
    render: async (valuesFiles, { toPath, env, defaultsSet: _defaults, ...settings }) => {
      const rendered = await helmTemplate(chartDir, { ...settings, valuesFiles, ...(env ? { env } : {}) });
      if (!rendered.ok) return { ok: false, error: rendered.error };
      try {
        return { ok: true, objects: splitManifests(rendered.text, 'chart/Chart.yaml', toPath) };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
}

export type FloorRender = { ok: true; objects: LocatedObject[] } | { ok: false; error: string };

/** Both floors for one render of the service's chart: the generator's defaults, and the generator's chart with the service's values. */
export async function floorRenders(
  reference: NonNullable<Awaited<ReturnType<typeof referenceChart>>>,
  serviceValues: string[],
  settings: RenderSettings,
): Promise<{ floors?: FloorRenders; problem?: string }> {
  const defaults = await reference.render([], { ...settings, set: settings.defaultsSet ?? settings.set ?? [] });
  if (!defaults.ok) return { problem: `cannot render the generator's chart for these answers: ${defaults.error}` };
  const same = await reference.render(serviceValues, settings);
  if (!same.ok) return { floors: { defaults: defaults.objects }, problem: `the generator's chart refuses these values (${same.error}): objects they call for are not compared` };
  return { floors: { defaults: defaults.objects, sameValues: same.objects } };
}
