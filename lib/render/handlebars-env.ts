import Handlebars from 'handlebars';
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

/**
 * An isolated Handlebars instance (node-plop registers helpers on the global one). Templates are compiled
 * with `strict` (a missing answer fails loudly) and `noEscape` (HTML escaping is wrong for every format we
 * emit: values are escaped by the format helpers above instead).
 */
export function createTemplateEngine(partials: Record<string, string>) {
  const hb = Handlebars.create();
  for (const [name, fn] of Object.entries(escapeHelpers)) hb.registerHelper(name, (v: unknown) => fn(String(v)));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('action', (uses: unknown) => pinnedAction(String(uses)));
  for (const [name, source] of Object.entries(partials)) hb.registerPartial(name, source);

  return {
    render(source: string, context: object, templateName: string): string {
      try {
        return hb.compile(source, { strict: true, noEscape: true })(context);
      } catch (err) {
        throw new Error(`template ${templateName}: ${(err as Error).message.split('\n')[0]}`);
      }
    },
  };
}

export type TemplateEngine = ReturnType<typeof createTemplateEngine>;
