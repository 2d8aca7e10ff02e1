import { type Answers, type OptionContext, type OptionSpec, options } from '../generators/options.js';
import { UsageError } from './errors.js';

/** Asks the user for one option; only called in interactive runs. */
export type AskOption = (option: OptionSpec, defaultValue: string | number) => Promise<string | number>;

export interface ResolveInput {
  /** Raw flag values by option key, as typed (`--port 80` → { port: '80' }). */
  given: Partial<Record<keyof Answers, string | number>>;
  context: OptionContext;
  /** Present in interactive runs: asks for each option that no flag gave. */
  ask?: AskOption;
}

/** Parses a raw value for an option, or returns the one-line reason it is not acceptable. */
export function parseOptionValue(option: OptionSpec, raw: string | number): { value: string | number } | { error: string } {
  let value: string | number = raw;
  if (option.type === 'integer') {
    const text = String(raw).trim();
    if (!/^\d+$/.test(text)) return { error: `--${option.flag} "${raw}" is not a whole number` };
    value = Number(text);
  }
  const choices = option.type === 'string' ? undefined : option.choices;
  if (choices && !choices.some((c) => c.value === value)) {
    return { error: `--${option.flag} "${raw}" is not one of: ${choices.map((c) => c.value).join(', ')}` };
  }
  const problem = (option.validate as (v: string | number) => string | undefined)(value);
  return problem ? { error: problem } : { value };
}

/**
 * The one way answers are made, create-vite style for every option: the flag if given, else a prompt when
 * interactive, else the default. Every value, defaults included, goes through the option's validation.
 */
export async function resolveAnswers({ given, context, ask }: ResolveInput): Promise<Answers> {
  const answers: Partial<Answers> = {};
  for (const option of options) {
    const key = option.key as keyof Answers;
    const fallback = option.default(context, answers);
    const raw = given[key] ?? (ask ? await ask(option, fallback) : fallback);
    const parsed = parseOptionValue(option, raw);
    if ('error' in parsed) {
      const hint = given[key] === undefined && !ask ? ` (this is the default: pass --${option.flag})` : '';
      throw new UsageError(parsed.error + hint);
    }
    (answers as Record<string, unknown>)[key] = parsed.value;
  }
  return answers as Answers;
}
