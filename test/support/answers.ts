import type { Answers } from '../../core/options.js';
import { resolveAnswers } from '../../lib/answers.js';

/** The answers `--yes` gives for a directory named `dir`, with overrides given as raw flag values. */
export function answersFor(dir = 'my-svc', given: Partial<Record<keyof Answers, string>> = {}): Promise<Answers> {
  return resolveAnswers({ given, context: { targetDir: dir } });
}
