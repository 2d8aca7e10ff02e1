import type Handlebars from 'handlebars';
// With its extension: handlebars has no "exports" map, so plain Node ESM (the tsc build of scripts) needs it.
import runtimeModule from 'handlebars/runtime.js';
import { versions } from '../versions.js';
import { dockerfileString, jsonString, markdownInline, yamlString } from './escape.js';
import type { TemplateFile, TemplateSource } from './template-folders.js';

/** Helpers that escape a value for the format it lands in. */
export const escapeHelpers = {
  json: jsonString,
  yaml: yamlString,
  md: markdownInline,
  dockerfile: dockerfileString,
} as const;

/**
 * `{{action "github/codeql-action/init"}}` → `github/codeql-action/init@<40-hex sha> # v4.37.1`: the one way a
 * workflow template names an action, so every pin comes from data/versions.json (keyed by owner/repo).
 */
export function pinnedAction(uses: string): string {
  const repo = uses.split('/').slice(0, 2).join('/');
  const pin = versions.actions[repo];
  if (!pin) throw new Error(`action ${uses}: no pin for ${repo} in data/versions.json`);
  return `${uses}@${pin.sha} # ${pin.version}`;
}

/** How every template and partial is compiled (the build precompiles with exactly these). */
export const COMPILE_OPTIONS = { strict: true, noEscape: true } as const;

/** The runtime is the same API as the full library, less the compiler (its types only describe the latter). */
const HandlebarsRuntime = runtimeModule as unknown as typeof Handlebars;
type Env = typeof HandlebarsRuntime;

/**
 * An isolated Handlebars environment (node-plop registers helpers on the global one). Templates are compiled
 * with `strict` (a missing answer fails loudly) and `noEscape` (HTML escaping is wrong for every format we
 * emit: values are escaped by the format helpers above instead).
 *
 * It starts as the runtime alone, which is all that templates precompiled by the build need (the published
 * bundle has no other kind). The compiler (most of Handlebars) is imported on the first template given as
 * source (running from the sources); the environment then moves to the full library, helpers and partials
 * included.
 */
export async function createTemplateEngine(partials: readonly TemplateFile[]) {
  const withHelpers = (env: Env) => {
    for (const [name, fn] of Object.entries(escapeHelpers)) env.registerHelper(name, (v: unknown) => fn(String(v)));
    env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    env.registerHelper('action', (uses: unknown) => pinnedAction(String(uses)));
    return env;
  };
  let env: Env = withHelpers(HandlebarsRuntime.create());
  let full = false;
  const compiled = new Map<TemplateSource, HandlebarsTemplateDelegate>();

  const registerPartials = async () => {
    for (const file of partials) {
      if ('template' in file) env.registerPartial(file.path.replace(/\.hbs$/, ''), await compile(file.template));
    }
  };
  async function compile(template: TemplateSource): Promise<HandlebarsTemplateDelegate> {
    let delegate = compiled.get(template);
    if (delegate) return delegate;
    if (typeof template !== 'string') delegate = env.template(template);
    else {
      if (!full) {
        const { default: library } = await import('handlebars');
        env = withHelpers(library.create());
        full = true;
        compiled.clear();
        await registerPartials();
      }
      delegate = env.compile(template, COMPILE_OPTIONS);
    }
    compiled.set(template, delegate);
    return delegate;
  }
  await registerPartials();

  return {
    async render(template: TemplateSource, context: object, templateName: string): Promise<string> {
      try {
        return (await compile(template))(context);
      } catch (err) {
        throw new Error(`template ${templateName}: ${(err as Error).message.split('\n')[0]}`);
      }
    },
  };
}

export type TemplateEngine = Awaited<ReturnType<typeof createTemplateEngine>>;
