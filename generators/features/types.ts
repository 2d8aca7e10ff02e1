import type { FileTree } from '../../core/file-tree.js';
import type { Answers } from '../../core/options.js';

/**
 * One emitted area (create-t3-app's "installer"): a template folder under templates/, when it applies, and
 * the derived values its templates need. Every other feature's templates see those values too.
 */
export interface Feature {
  name: string;
  /** Folder under templates/ that mirrors the emitted tree. */
  templateDir: string;
  when?: (answers: Answers) => boolean;
  context?: (answers: Answers) => Record<string, unknown>;
  /** Files derived from what every feature rendered (e.g. the lockfile from package.json), added last. */
  derive?: (tree: FileTree, answers: Answers) => Promise<void> | void;
}
