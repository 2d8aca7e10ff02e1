import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';

/** Module path (relative to the repository, POSIX) → the modules it imports, dynamic and type-only imports included. */
export type ImportGraph = Map<string, string[]>;

/**
 * Reads every .ts module under the given folders with TypeScript's own import scanner (static, dynamic,
 * `import type` and `export ... from`). Relative specifiers are resolved as NodeNext resolves them (`./x.js` is
 * `./x.ts`); package imports are left out. A relative import of a file that does not exist throws.
 */
export function readImportGraph(root: string, folders: string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const folder of folders) {
    for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = join(entry.parentPath, entry.name);
      const from = relative(root, file).split(sep).join('/');
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const targets = importedFiles
        .map((i) => i.fileName)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => relative(root, join(dirname(file), spec.replace(/\.js$/, '.ts'))).split(sep).join('/'));
      graph.set(from, targets);
    }
  }
  for (const [from, targets] of graph) {
    for (const to of targets) if (!graph.has(to)) throw new Error(`${from} imports ${to}, which is not a module of ${folders.join(', ')}`);
  }
  return graph;
}

/** Every import cycle, each as the modules on it (strongly connected components of more than one module, or a self-import). */
export function importCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A layer: the folders (path prefixes) whose modules belong to it. */
export interface Layer {
  name: string;
  folders: string[];
}

/** The layer of a module: the one with the longest folder that contains it. */
export function layerOf(path: string, layers: readonly Layer[]): number {
  let best = -1;
  let bestLength = -1;
  layers.forEach((layer, i) => {
    for (const folder of layer.folders) {
      if (path.startsWith(folder) && folder.length > bestLength) {
        best = i;
        bestLength = folder.length;
      }
    }
  });
  if (best < 0) throw new Error(`${path} is in no layer`);
  return best;
}

/** Imports from a lower layer to a higher one (layers are listed lowest first), as `from → to (lower → higher)`. */
export function upwardImports(graph: ImportGraph, layers: readonly Layer[]): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    const own = layerOf(from, layers);
    for (const to of targets) {
      const theirs = layerOf(to, layers);
      if (theirs > own) found.push(`${from} → ${to} (${layers[own]!.name} → ${layers[theirs]!.name})`);
    }
  }
  return found.sort();
}
