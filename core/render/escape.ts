/**
 * Escapers for each file format a user value can land in. Templates call them as helpers
 * (`{{json description}}`); a test checks that no free-text answer reaches a template without one.
 */

/** A complete JSON string literal, quotes included. */
export function jsonString(value: string): string {
  return JSON.stringify(value);
}

/**
 * A YAML double-quoted scalar. JSON escapes are valid YAML escapes; on top of them YAML forbids raw
 * DEL, C1 controls, lone surrogates and a BOM, so those are written as \u escapes too.
 */
export function yamlString(value: string): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\ufeff\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Inline Markdown text: one line; every character that acts anywhere in a line (emphasis, code, links,
 * tables, strikethrough, HTML) is escaped, and so is a leading character that would start a heading,
 * list or quote. Nothing else is touched, so the source stays readable.
 */
export function markdownInline(value: string): string {
  return value
    .replace(/\r\n?|\n/g, ' ')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/^(\s*)([#+\->=])/, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

/**
 * The inside of a double-quoted Dockerfile string (LABEL, ENV): one line, `"` and `\` escaped, and `$`
 * escaped so that BuildKit does not expand variables from it.
 */
export function dockerfileString(value: string): string {
  return `"${value.replace(/\r\n?|\n/g, ' ').replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}
