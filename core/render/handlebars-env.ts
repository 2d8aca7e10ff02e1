import type Handlebars from 'handlebars';
// With its extension: handlebars has no "exports" map, so plain Node ESM (the tsc build of scripts) needs it.
import runtimeModule from 'handlebars/runtime.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { versions } from '../versions.js';
import { dockerfileString, jsonString, markdownInline, yamlString } from './escape.js';

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

/** How every template and partial is compiled (the build precompiles with exactly these, see below). */
export const COMPILE_OPTIONS = { strict: true, noEscape: true } as const;

/** Key of a template source in the precompiled cache. */
export function templateKey(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

/** Where `npm run build` writes templates precompiled with COMPILE_OPTIONS, keyed by templateKey(source). */
export const PRECOMPILED_TEMPLATES_PATH = join(packageRoot, 'dist', 'templates.precompiled.cjs');

/** The runtime is the same API as the full library, less the compiler (its types only describe the latter). */
const HandlebarsRuntime = runtimeModule as unknown as typeof Handlebars;
type TemplateSpec = Parameters<typeof HandlebarsRuntime.template>[0];
type Env = typeof HandlebarsRuntime;
let precompiled: Record<string, TemplateSpec> | undefined;

/**
 * Compiling Handlebars is most of a generation's CPU time (parse + code generation, ~100 ms cold), so the
 * build precompiles every template. A template whose source is not in the cache (edited since the build,
 * or no build at all) is compiled as before: the cache is keyed by content, so it can only miss, never be stale.
 */
function precompiledTemplates(): Record<string, TemplateSpec> {
  if (!precompiled) {
    precompiled = existsSync(PRECOMPILED_TEMPLATES_PATH)
      ? (createRequire(import.meta.url)(PRECOMPILED_TEMPLATES_PATH) as Record<string, TemplateSpec>)
      : {};
  }
  return precompiled;
}

/**
 * An isolated Handlebars environment (node-plop registers helpers on the global one). Templates are compiled
 * with `strict` (a missing answer fails loudly) and `noEscape` (HTML escaping is wrong for every format we
 * emit: values are escaped by the format helpers above instead).
 *
 * It starts as the runtime alone, which is all that precompiled templates need. The compiler (most of
 * Handlebars) is imported on the first template missing from the cache, which the published package never
 * has; the environment then moves to the full library, helpers and partials included.
 */
export async function createTemplateEngine(partials: Record<string, string>) {
  const specs = precompiledTemplates();
  const withHelpers = (env: Env) => {
    for (const [name, fn] of Object.entries(escapeHelpers)) env.registerHelper(name, (v: unknown) => fn(String(v)));
    env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    env.registerHelper('action', (uses: unknown) => pinnedAction(String(uses)));
    return env;
  };
  let env: Env = withHelpers(HandlebarsRuntime.create());
  let full = false;

  const registerPartials = async () => {
    for (const [name, source] of Object.entries(partials)) env.registerPartial(name, await compile(source));
  };
  async function compile(source: string): Promise<HandlebarsTemplateDelegate> {
    const spec = specs[templateKey(source)];
    if (spec) return env.template(spec);
    if (!full) {
      const { default: library } = await import('handlebars');
      env = withHelpers(library.create());
      full = true;
      await registerPartials();
    }
    return env.compile(source, COMPILE_OPTIONS);
  }
  await registerPartials();

  return {
    async render(source: string, context: object, templateName: string): Promise<string> {
      try {
        return (await compile(source))(context);
      } catch (err) {
        throw new Error(`template ${templateName}: ${(err as Error).message.split('\n')[0]}`);
      }
    },
  };
}

export type TemplateEngine = Awaited<ReturnType<typeof createTemplateEngine>>;
