import { type Answers, type OptionContext, type OptionSpec, options, parseOptionValue } from '../core/options.js';
import { UsageError } from './errors.js';
import { answerConstraintProblems, applyPlaceholders, type Preset, presetLabel } from './preset.js';

/** Asks the user for one option; only called in interactive runs. */
export type AskOption = (option: OptionSpec, defaultValue: string | number) => Promise<string | number>;

export interface ResolveInput {
  /** Raw flag values by option key, as typed (`--port 80` → { port: '80' }). */
  given: Partial<Record<keyof Answers, string | number>>;
  context: OptionContext;
  /** Present in interactive runs: asks for each option that no flag gave. */
  ask?: AskOption;
  /** Answers recorded in a service's manifest (upgrade): below flags and locks, above prompts and defaults. */
  recorded?: Partial<Record<keyof Answers, string | number>>;
  /** The organisation preset: its locks win (a conflicting flag is an error), its defaults replace ours. */
  preset?: Preset;
}

/**
 * The one way answers are made, create-vite style for every option: a preset's lock if there is one (never
 * prompted; a flag that disagrees is an error naming the lock), else the flag if given, else the answer a
 * service recorded, else a prompt when interactive, else the default (the preset's, then ours). Every value,
 * defaults included, goes through the option's validation, then through the preset's constraints.
 */
export async function resolveAnswers({ given, context, ask, recorded, preset }: ResolveInput): Promise<Answers> {
  const answers: Partial<Answers> = {};
  // An upgrade (answers recorded) of a service made before an option: what it had, above the preset's default.
  const upgrading = recorded !== undefined;
  recorded ??= {};
  for (const option of options) {
    const key = option.key as keyof Answers;
    const lock = preset?.locks[key];
    if (lock !== undefined && given[key] !== undefined) {
      const parsedFlag = parseOptionValue(option, given[key]);
      if ('error' in parsedFlag || parsedFlag.value !== lock) {
        throw new UsageError(`--${option.flag} ${given[key]} conflicts with ${presetLabel(preset!)}: it locks ${option.key} to ${lock} (drop the flag, or ask the platform team to change the preset)`);
      }
    }
    const presetDefault = preset?.defaults[key];
    const fallback =
      upgrading && option.upgradeDefault !== undefined
        ? option.upgradeDefault
        : presetDefault !== undefined ? applyPlaceholders(presetDefault, answers) : option.default(context, answers);
    const raw = lock ?? given[key] ?? recorded[key] ?? (ask ? await ask(option, fallback) : fallback);
    const parsed = parseOptionValue(option, raw, answers);
    if ('error' in parsed) {
      const origin =
        lock !== undefined
          ? ` (locked by ${presetLabel(preset!)})`
          : given[key] === undefined && recorded[key] === undefined && !ask
            ? presetDefault !== undefined
              ? ` (this is the default of ${presetLabel(preset!)}: pass --${option.flag})`
              : ` (this is the default: pass --${option.flag})`
            : '';
      throw new UsageError(parsed.error + origin);
    }
    (answers as Record<string, unknown>)[key] = parsed.value;
  }
  if (preset) {
    const problem = answerConstraintProblems(preset, answers)[0];
    if (problem) throw new UsageError(`${problem.message}, which ${presetLabel(preset)} requires: pass --${problem.flag} with an allowed value`);
  }
  return answers as Answers;
}
