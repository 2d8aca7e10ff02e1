import dockerignoreModule from '@balena/dockerignore';

// A CommonJS module whose types declare an ES default export: take whichever form the loader gives.
const dockerignore = ((dockerignoreModule as unknown as { default?: typeof dockerignoreModule }).default ??
  dockerignoreModule) as unknown as (typeof import('@balena/dockerignore'))['default'];

/** A .dockerignore read with Docker's own matching rules (@balena/dockerignore mirrors moby's matcher). */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const matcher = dockerignore({ ignorecase: false }).add(text);
  return (path) => matcher.ignores(path);
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
