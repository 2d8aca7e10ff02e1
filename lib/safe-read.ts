import { isUtf8 } from 'node:buffer';
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { GenerationError, UsageError } from './errors.js';

/**
 * Reading a team's tree without hanging or dying on it: a FIFO, socket or device is never opened (reading a FIFO
 * blocks forever), an unreadable or over-long path is one line naming it, and every name is shown on one line.
 */

/** A path as one line: control characters (a newline in a file name) escaped, bytes that were not UTF-8 shown as \uFFFD. */
export function displayPath(path: string): string {
  // eslint-disable-next-line no-control-regex
  return path.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** A path quoted for a message, cut at 120 characters: a refusal stays one short line whatever the path. */
export function quotedPath(path: string): string {
  return JSON.stringify(path.length > 120 ? `${path.slice(0, 120)}…` : path);
}

/** Any text as one line: what a fleet prints per service stays one line whatever file names it quotes. */
export const oneLine = displayPath;

/** What a file system entry is, when it is not a regular file or a folder. */
export function specialKind(info: Stats): string | undefined {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return undefined;
}

function failure(err: unknown, shown: string): Error {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  if (code === 'ENAMETOOLONG') return new UsageError(`${shown}: the path is longer than the system allows (ENAMETOOLONG): shorten it`);
  return new GenerationError(`${shown}: cannot read (${code})`);
}

/**
 * A regular file's bytes (through symlinks), undefined when nothing is there. Refuses with one line naming `shown`:
 * a special file (never opened), a folder, a file it cannot read.
 */
export function readRegularFile(path: string, shown: string): Buffer | undefined {
  let info: Stats;
  try {
    info = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw failure(err, displayPath(shown));
  }
  const special = specialKind(info);
  if (special) throw new UsageError(`${displayPath(shown)} is ${special}, not a file: it is not read; remove it or make it a file`);
  if (!info.isFile()) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw failure(err, displayPath(shown));
  }
}

/** readRegularFile as UTF-8 text. */
export function readRegularText(path: string, shown: string): string | undefined {
  return readRegularFile(path, shown)?.toString('utf8');
}

/** The longest path a service may hold, in bytes (Linux's PATH_MAX is 4096 with its final NUL). */
export const MAX_PATH_BYTES = 4095;

/**
 * Walks a folder that a tool will read whole (a chart helm renders) and refuses, with one line naming the path, what
 * would hang or break it: a special file, a name that is not UTF-8, a path past MAX_PATH_BYTES, a folder it cannot
 * read. A queue, not recursion: depth costs memory, not stack.
 */
export function assertPlainTree(root: string, shown: string): void {
  const queue: string[] = [''];
  for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
    const here = rel ? `${shown}/${rel}` : shown;
    let entries;
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      throw failure(err, displayPath(here));
    }
    for (const entry of entries) {
      const name = isUtf8(entry.name) ? entry.name.toString('utf8') : entry.name.toString('latin1');
      const path = rel ? `${rel}/${name}` : name;
      const shownPath = displayPath(`${shown}/${path}`);
      if (!isUtf8(entry.name)) throw new UsageError(`${shownPath}: the name is not UTF-8 (shown as Latin-1): rename it`);
      if (Buffer.byteLength(join(root, path)) > MAX_PATH_BYTES) throw new UsageError(`${shownPath.slice(0, 200)}…: the path is longer than ${MAX_PATH_BYTES} bytes: shorten it`);
      if (entry.isDirectory()) queue.push(path);
      else if (!entry.isFile() && !entry.isSymbolicLink()) throw new UsageError(`${shownPath} is ${entry.isFIFO() ? 'a FIFO' : entry.isSocket() ? 'a socket' : 'a device'}, not a file: it is not read; remove it`);
      else if (entry.isSymbolicLink()) readRegularFile(join(root, path), `${shown}/${path}`);
    }
  }
}
