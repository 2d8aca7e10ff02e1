// The data files the canary reads: the same pins and facts the emitted pipelines are rendered from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (name) => JSON.parse(readFileSync(join(root, 'data', name), 'utf8'));

export function readData() {
  return { versions: read('versions.json'), ciFacts: read('ci-facts.json') };
}

/** `name:tag@digest`, as the generator writes pinned images. */
export function imageRef(pinned) {
  return `${pinned.image}:${pinned.tag}@${pinned.digest}`;
}
