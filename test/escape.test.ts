import { DockerfileParser } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dockerfileString, jsonString, markdownInline, yamlString } from '../core/render/escape.js';

/** Values a user could type that break naive templates. */
export const hostileValues = [
  'R&D "core" team\'s service',
  'two\nlines\r\nand a tab\t',
  'braces {{name}} ${{ github.token }} {{- if .Values.x }}',
  'yaml: breakers # - [a] {b} *alias &anchor !tag | > % @ `',
  '</script><img src=x onerror=alert(1)> [link](http://evil) # heading',
  'shell $HOME $(id) `id` \\ back\\slash',
  'unicode ✓ é 漢字 emoji 🚀 del\u007f c1\u0085 bom\ufeff ls\u2028',
  '# heading-like start',
  '1. list-like start',
];

describe('format escapers', () => {
  it.each(hostileValues)('YAML double-quoted scalar round-trips %j', (value) => {
    expect(parseYaml(`key: ${yamlString(value)}\n`)).toEqual({ key: value });
  });

  it.each(hostileValues)('JSON string round-trips %j', (value) => {
    expect(JSON.parse(`{"key": ${jsonString(value)}}`)).toEqual({ key: value });
  });

  it.each(hostileValues)('Dockerfile LABEL value stays one instruction with no variable expansion: %j', (value) => {
    const dockerfile = DockerfileParser.parse(`FROM scratch\nLABEL description=${dockerfileString(value)}\nUSER 1\n`);
    const instructions = dockerfile.getInstructions().map((i) => i.getKeyword());
    expect(instructions).toEqual(['FROM', 'LABEL', 'USER']);
    const label = dockerfile.getInstructions()[1]!.getRawArgumentsContent() ?? '';
    expect(label.split('\n')).toHaveLength(1);
    // Every $ is escaped, so BuildKit expands nothing.
    expect(label).not.toMatch(/(?<!\\)\$/);
  });

  it.each(hostileValues)('Markdown inline text is one line and opens no link, tag, heading or code: %j', (value) => {
    const md = markdownInline(value);
    expect(md).not.toMatch(/[\r\n]/);
    expect(md).not.toContain('<');
    expect(md).not.toMatch(/(?<!\\)[[\]`*_|~]/);
    expect(md).not.toMatch(/^\s*([#+\->=]|\d+[.)])/);
  });
});
