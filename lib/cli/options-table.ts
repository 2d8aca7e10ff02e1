import { options } from '../../core/options.js';

/** The README's option table, written from the options model (`npm run docs` puts it in README.md). */
export function optionsMarkdownTable(): string {
  const rows = options.map((o) => {
    const choices = o.type !== 'string' && o.choices ? o.choices.map((c) => `\`${c.value}\``).join(', ') : '';
    const fallback = o.default({ targetDir: 'my-svc' }, { name: 'my-svc', owner: 'platform' });
    return `| \`--${o.flag}\` | ${o.description.replace(/\|/g, '\\|')} | ${choices || '—'} | ${fallback === '' ? '(empty)' : `\`${fallback}\``} | ${o.affects.join(', ')} |`;
  });
  return ['| flag | answer | choices | default (for `my-svc`) | affects |', '|---|---|---|---|---|', ...rows].join('\n');
}

export const OPTIONS_START = '<!-- options:start (npm run docs) -->';
export const OPTIONS_END = '<!-- options:end -->';
