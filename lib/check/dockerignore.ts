/**
 * .dockerignore matching as BuildKit does it (moby/patternmatcher): patterns are cleaned paths relative to
 * the context, `*` and `?` stay within one path segment, `**` spans any number of segments, a pattern that
 * matches a directory excludes everything below it, `!` re-includes, and the last matching pattern wins.
 */
interface Pattern {
  negate: boolean;
  regex: RegExp;
}

function cleanPattern(raw: string): string {
  let p = raw.trim().replace(/\\/g, '/');
  p = p.replace(/^\/+/, '').replace(/\/+$/, '');
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

function toRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` matches zero or more whole segments; a trailing `**` matches everything below.
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): Pattern[] {
  const patterns: Pattern[] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const negate = trimmed.startsWith('!');
    const cleaned = cleanPattern(negate ? trimmed.slice(1) : trimmed);
    if (!cleaned) continue;
    patterns.push({ negate, regex: toRegex(cleaned) });
  }
  return patterns;
}

/** True when `path` (relative, POSIX) is left out of the build context. */
export function isIgnored(patterns: Pattern[], path: string): boolean {
  const segments = path.split('/');
  const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const p of patterns) {
    if (prefixes.some((prefix) => p.regex.test(prefix))) ignored = !p.negate;
  }
  return ignored;
}

/** Paths that must never reach the build context, with what each stands for. */
export const MUST_IGNORE: { path: string; what: string }[] = [
  { path: '.git/HEAD', what: 'the git history (.git)' },
  { path: 'node_modules/some-package/index.js', what: 'node_modules' },
  { path: '.env', what: '.env' },
  { path: '.env.production', what: '.env.*' },
  { path: 'src/.env', what: '.env inside an included folder' },
  { path: 'src/.env.local', what: '.env.* inside an included folder' },
  { path: '.npmrc', what: '.npmrc (registry tokens)' },
  { path: 'src/.npmrc', what: '.npmrc inside an included folder' },
  { path: 'src/tls.key', what: 'private keys (*.key)' },
  { path: 'src/cert.pem', what: 'keys and certificates (*.pem)' },
];
