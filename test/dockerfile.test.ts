import { DockerfileParser, Run } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { dockerignoreMatcher } from '../lib/check/dockerignore.js';
import { imageRef, versions } from '../core/versions.js';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';

const DIGEST = /@sha256:[0-9a-f]{64}$/;

async function dockerfileFor(nodeVersion: string) {
  const tree = await renderService(await answersFor('svc', { nodeVersion, port: '9090' }));
  const text = tree.get('Dockerfile')!.toString('utf8');
  return { text, dockerfile: DockerfileParser.parse(text), dockerignore: tree.get('.dockerignore')!.toString('utf8') };
}

describe.each(versions.node.lines.map((l) => [l.major, l] as const))('Dockerfile for Node %i', (major, line) => {
  it('is multi-stage, every FROM pinned by tag and digest from the versions file', async () => {
    const { dockerfile } = await dockerfileFor(String(major));
    const froms = dockerfile.getFROMs();
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      expect(from.getImageTag(), from.getImage() ?? '').toMatch(/^[\w][\w.-]{0,127}$/);
      expect(from.getImage()).toMatch(DIGEST);
    }
    expect(froms[0]!.getImage()).toBe(imageRef(line.build));
    expect(froms[0]!.getImageName()).toBe('node');
  });

  it('ends in the distroless nonroot image of the same Node line, as uid 65532, without a shell', async () => {
    const { dockerfile } = await dockerfileFor(String(major));
    const last = dockerfile.getFROMs().at(-1)!;
    expect(last.getImage()).toBe(imageRef(line.runtime));
    expect(`${last.getRegistry()}/${last.getImageName()}`).toBe(`gcr.io/distroless/nodejs${major}-debian13`);
    expect(last.getImageTag()).toBe('nonroot');
    const finalStage = dockerfile.getInstructions().filter((i) => i.getRange().start.line > last.getRange().start.line);
    const keyword = (k: string) => finalStage.filter((i) => i.getKeyword() === k);
    // The last USER of the final stage is the numeric nonroot user, so runAsNonRoot can verify it.
    expect(keyword('USER').at(-1)?.getArgumentsContent()).toBe('65532:65532');
    expect(keyword('RUN')).toEqual([]);
    // Exec form: node is PID 1 and gets SIGTERM itself.
    const cmd = keyword('CMD').at(-1)!.getArgumentsContent() ?? '';
    expect(JSON.parse(cmd)).toEqual(['dist/server.js']);
    const env = keyword('ENV').map((i) => i.getArgumentsContent()).join(' ');
    expect(env).toMatch(/NODE_ENV=production/);
    expect(env).toMatch(/PORT=9090/);
    expect(keyword('EXPOSE')[0]?.getArgumentsContent()).toBe('9090');
    // Files come from the build stage only, owned by root (not writable by the app).
    for (const copy of keyword('COPY')) expect(copy.getTextContent()).toMatch(/^COPY --from=build --chown=0:65532 /);
  });

  it('pins its Dockerfile frontend (# syntax) by digest from the versions file', async () => {
    const { text } = await dockerfileFor(String(major));
    expect(text.split('\n')[0]).toBe(`# syntax=${imageRef(versions.dockerfileSyntax)}`);
    expect(versions.dockerfileSyntax.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('mounts a proxy CA for npm ci only, as an optional BuildKit secret: never an ARG, ENV or COPY', async () => {
    const { dockerfile } = await dockerfileFor(String(major));
    const runs = dockerfile.getInstructions().filter((i): i is Run => i instanceof Run);
    const withSecret = runs.filter((r) => r.getFlags().some((f) => f.getValue()?.includes('type=secret')));
    expect(withSecret).toHaveLength(1);
    expect(withSecret[0]!.getFlags().map((f) => f.getValue())).toContain('type=secret,id=extra_ca_certs,required=false');
    expect(withSecret[0]!.getArgumentsContent()).toMatch(
      /^if \[ -s \/run\/secrets\/extra_ca_certs \]; then export NODE_EXTRA_CA_CERTS=\/run\/secrets\/extra_ca_certs; fi\s+&& npm ci --ignore-scripts$/,
    );
    for (const other of dockerfile.getInstructions().filter((i) => i !== withSecret[0])) {
      expect(other.getTextContent()).not.toMatch(/NODE_EXTRA_CA_CERTS|extra_ca_certs|ca-certificates|\.pem|\.crt/);
    }
  });

  it('makes the code it copies into the runtime stage root-readable and group-readable only, before the COPY', async () => {
    const { dockerfile } = await dockerfileFor(String(major));
    const runtimeStart = dockerfile.getFROMs().at(-1)!.getRange().start.line;
    const instructions = dockerfile.getInstructions();
    const copied = instructions
      .filter((i) => i.getKeyword() === 'COPY' && i.getRange().start.line > runtimeStart)
      .map((i) => i.getArguments().at(-2)!.getValue().replace(/^\/app\//, ''));
    const chmod = instructions
      .filter((i) => i.getKeyword() === 'RUN' && i.getRange().start.line < runtimeStart)
      .map((i) => /chmod -R u=rX,g=rX,o= (.+)$/.exec(i.getArgumentsContent() ?? '')?.[1])
      .find(Boolean);
    expect(chmod?.split(' ').sort()).toEqual(copied.sort());
  });

  it('builds with npm ci without install scripts and keeps production dependencies only', async () => {
    const { dockerfile } = await dockerfileFor(String(major));
    const runs = dockerfile.getInstructions().filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
    expect(runs.some((r) => /npm ci --ignore-scripts/.test(r))).toBe(true);
    expect(runs.some((r) => /npm prune --omit=dev/.test(r))).toBe(true);
    expect(runs.join('\n')).not.toMatch(/npm install(?!\S)/);
  });
});

describe('.dockerignore', () => {
  it('keeps secrets, VCS data, dependencies, tests, local settings and deploy files out of the build context', async () => {
    const { dockerignore } = await dockerfileFor(String(versions.node.defaultMajor));
    const ignored = dockerignoreMatcher(dockerignore);
    for (const path of ['.git/config', 'node_modules/x/index.js', '.env', '.env.local', 'src/.env', '.npmrc', 'test/app.test.ts', 'src/app.test.ts', 'coverage/lcov.info', 'chart/values.yaml', 'deploy/namespace.yaml', '.github/workflows/ci.yml', '.vscode/settings.json', 'dist/server.js', 'secrets/db.pem', 'src/tls.key', 'README.md']) {
      expect(ignored(path), path).toBe(true);
    }
    for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/server.ts', 'src/config.ts']) {
      expect(ignored(path), path).toBe(false);
    }
  });
});
