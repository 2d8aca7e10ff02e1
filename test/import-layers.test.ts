import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';
import { importCycles, type ImportGraph, type Layer, readImportGraph, upwardImports } from './support/import-graph.js';

/**
 * The layers of the generator, lowest first (README "How it works"): a module imports modules of its own layer
 * or of lower ones, never of a higher one, and no module imports itself back through others.
 */
const LAYERS: readonly Layer[] = [
  { name: 'core', folders: ['core/'] },
  { name: 'generators', folders: ['generators/'] },
  { name: 'lib', folders: ['lib/'] },
  { name: 'cli', folders: ['lib/cli/'] },
];

const graph = readImportGraph(repoRoot, ['core', 'generators', 'lib']);

describe('import graph', () => {
  it('every module is in a layer and imports point down or sideways, never up', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(upwardImports(graph, LAYERS)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('the checks find a planted cycle and an upward import', () => {
    const planted: ImportGraph = new Map([
      ['core/a.ts', ['core/b.ts']],
      ['core/b.ts', ['generators/c.ts']],
      ['generators/c.ts', ['core/a.ts']],
      ['lib/d.ts', ['lib/d.ts']],
    ]);
    expect(importCycles(planted)).toEqual([['core/a.ts', 'core/b.ts', 'generators/c.ts'], ['lib/d.ts']]);
    expect(upwardImports(planted, LAYERS)).toEqual(['core/b.ts → generators/c.ts (core → generators)']);
  });
});
