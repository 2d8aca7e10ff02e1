import { type OptionSpec, parseOptionValue } from '../../core/options.js';
import type { AskOption } from '../answers.js';
import type { CliIO } from './io.js';

/**
 * Asks through Inquirer's input and select prompts (loaded only for interactive runs), validating with the
 * options model. Imported one by one rather than through @inquirer/prompts: a dynamic import of that index
 * keeps every prompt in the bundle (the editor prompt alone brings ~0.5 MB of iconv-lite).
 */
export async function createAsker(io: CliIO): Promise<AskOption> {
  const [{ default: input }, { default: select }] = await Promise.all([import('@inquirer/input'), import('@inquirer/select')]);
  const context = { input: io.stdin, output: io.stdout, clearPromptOnDone: false };
  return async (option: OptionSpec, defaultValue: string | number) => {
    const choices = option.type === 'string' ? undefined : option.choices;
    if (choices) {
      return select<string | number>(
        {
          message: option.description,
          choices: choices.map((c) => ({ value: c.value, name: c.label })),
          default: defaultValue,
        },
        context,
      );
    }
    return input(
      {
        message: option.description,
        default: String(defaultValue),
        validate: (raw) => {
          const parsed = parseOptionValue(option, raw);
          return 'error' in parsed ? parsed.error : true;
        },
      },
      context,
    );
  };
}
