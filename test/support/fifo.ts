import { execa } from 'execa';

/** A named pipe at `path` (mkfifo(1): Node has no mkfifo). Reading it blocks until a writer comes: never, here. */
export async function mkfifo(path: string): Promise<void> {
  await execa('mkfifo', [path]);
}
