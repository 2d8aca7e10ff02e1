import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageRef, versions } from '../core/versions.js';
import {
  BUILTINS,
  canaryPins,
  ciFacts,
  commandsOf,
  downloadsOf,
  expandedCommands,
  githubBlocks,
  gitlabBlocks,
  imageFacts,
  imageOf,
  knownUrls,
  parseGitlab,
  scriptLines,
  SOURCE,
  type ShellBlock,
} from './support/ci-facts.js';
import { parseWorkflow, renderText, workflowFiles } from './support/ci-workflows.js';
import { repoRoot } from './support/cli.js';
import { shellcheck } from './support/shellcheck.js';

/** The answers that change what the pipelines say: registries, CI system, Node line. */
const variants: Record<string, Record<string, string>> = {
  github: {},
  'github-dockerhub': { image: 'acme/orders-api' },
  'github-private-registry': { image: 'registry.example.com:5000/team/orders-api', nodeVersion: '22' },
  'github-postgres-redis': { database: 'postgres', rateLimitStore: 'redis' },
  'github-dhi-arm64': { base: 'dhi', platforms: 'linux/arm64' },
  gitlab: { ci: 'gitlab' },
  'gitlab-dockerhub': { ci: 'gitlab', image: 'acme/orders-api', nodeVersion: '24' },
  'gitlab-mysql-redis': { ci: 'gitlab', database: 'mysql', rateLimitStore: 'redis' },
  'gitlab-dhi': { ci: 'gitlab', base: 'dhi', nodeVersion: '24' },
};

async function blocksOf(given: Record<string, string>): Promise<ShellBlock[]> {
  const files = await renderText(given);
  const gitlab = files.get('.gitlab-ci.yml');
  return gitlab === undefined ? githubBlocks(files) : gitlabBlocks(gitlab);
}

describe('data/ci-facts.json: facts for exactly what is pinned, each with its upstream source', () => {
  it('every release the pipelines download is recorded for the pinned version, at the tag\'s commit', () => {
    for (const [tool, release] of Object.entries(ciFacts.releases)) {
      const pin = versions.tools[tool] as { version: string; commit?: string };
      expect(release.version, tool).toBe(pin.version);
      expect(release.commit, tool).toBe(pin.commit);
      expect(release.source, tool).toContain(`@${release.commit}:`);
      for (const url of [release.asset, release.checksum?.url, release.signature?.url].filter(Boolean)) {
        expect(url, tool).toContain(release.version.replace(/^v/, ''));
      }
      // Every asset is verifiable: a checksum file, a signature with its key, or the sha256 upstream published.
      if (release.sha256) {
        expect(release.sha256, tool).toMatch(/^[0-9a-f]{64}$/);
        continue;
      }
      const verifiedBy = release.checksum ? release.checksum.url : release.signature ? `${release.signature.url} ${release.signature.key}` : '';
      expect(verifiedBy, tool).toMatch(/^https:\/\/\S+( https:\/\/\S+)?$/);
    }
  });

  it('every image a GitLab job can use is recorded, with where its facts were read', () => {
    const images = [
      ...Object.values(versions.tools).flatMap((t) => (t as { gitlabImage?: string }).gitlabImage ?? []),
      ...versions.node.lines.map((l) => `${l.build.image}:${l.build.tag}@${l.build.digest}`),
    ];
    for (const image of images) {
      const facts = imageFacts(image);
      expect(facts, image).toBeDefined();
      expect(facts!.source, image).toMatch(SOURCE);
      expect(ciFacts.bases[facts!.base], `${image}: base ${facts!.base}`).toBeDefined();
      if (facts!.readAt) expect(facts!.readAtReason, image).toMatch(/\w{3,}.*\s\w{3,}/);
    }
    for (const base of Object.values(ciFacts.bases)) expect(base.source.length).toBeGreaterThan(40);
  });

  it('every action the workflows use has its inputs recorded for the pinned version, from its action.yml', () => {
    for (const [action, facts] of Object.entries(ciFacts.actions)) {
      const repo = action.split('/').slice(0, 2).join('/');
      expect(facts.version, action).toBe(versions.actions[repo]!.version);
      expect(facts.source, action).toMatch(new RegExp(`^${repo}@[0-9a-f]{40}:(.+/)?action\\.ya?ml$`));
      if (facts.readAt !== facts.version) expect(facts.readAtReason, action).toMatch(/newer than the stored upstream snapshot/);
      expect(facts.inputs.length, action).toBeGreaterThan(0);
    }
  });

  it('every version comment is exact (vX.Y.Z), and no pin is unused', async () => {
    // The emitted workflows, and this repository's own (the release and canary download artifacts).
    const own = await Promise.all(['ci.yml', 'canary.yml', 'release.yml'].map((n) => readFile(join(repoRoot, '.github', 'workflows', n), 'utf8')));
    const all = [...[...workflowFiles(await renderText())].map(([, t]) => t), ...own].join('\n');
    for (const [repo, pin] of Object.entries(versions.actions)) {
      expect(pin.version, repo).toMatch(/^v\d+\.\d+\.\d+$/);
      expect(all, `${repo} is pinned but never used`).toContain(`${repo}`);
    }
  });
});

describe('every pin is confirmed upstream, not only by third-party files', () => {
  it('each action SHA is its tag in the upstream repository', () => {
    for (const [repo, pin] of Object.entries(versions.actions)) {
      expect(pin.source, repo).toMatch(new RegExp(`^${repo} refs/tags/${pin.version.replace(/\./g, '\\.')} -> ${pin.sha} \\(upstream repository`));
    }
  });

  it('cosign is a tag of sigstore/cosign, and its GitLab image is that version', () => {
    const cosign = versions.tools.cosign as { version: string; commit?: string; source: string; gitlabImage: string };
    expect(cosign.source).toMatch(new RegExp(`^sigstore/cosign refs/tags/${cosign.version} -> ${cosign.commit} \\(upstream repository`));
    expect(cosign.gitlabImage).toBe(`ghcr.io/sigstore/cosign/cosign:${cosign.version}-dev`);
  });

  it("the kind node image is the pinned kind release's own default, read at its tag", () => {
    const { kind, kindNodeImage } = canaryPins;
    expect(kind.source).toMatch(new RegExp(`^kubernetes-sigs/kind@${kind.commit}:`));
    expect(kindNodeImage.source).toContain(
      `kubernetes-sigs/kind@${kind.commit}:pkg/apis/config/defaults/image.go (kind ${kind.version}'s default node image: const Image = "${kindNodeImage.image}:${kindNodeImage.tag}@${kindNodeImage.digest}")`,
    );
  });
});

describe('service containers of the test jobs (--database, --rate-limit-store redis)', () => {
  /** Each test job's service containers: image, environment, published port or alias, health command. */
  async function servicesOf(given: Record<string, string>) {
    const files = await renderText(given);
    const gitlabText = files.get('.gitlab-ci.yml');
    if (gitlabText) {
      const { jobs } = parseGitlab(gitlabText);
      const job = jobs.test as { services?: { name: string; alias: string; variables?: Record<string, string> }[]; variables?: Record<string, string> };
      return { env: job.variables ?? {}, services: (job.services ?? []).map((s) => ({ image: s.name, env: s.variables ?? {}, host: s.alias, ports: [] as string[], health: undefined as string | undefined })) };
    }
    const job = parseWorkflow(files.get('.github/workflows/ci.yml')!).jobs.test as unknown as {
      services?: Record<string, { image: string; env?: Record<string, string>; ports?: string[]; options?: string }>;
      steps: { env?: Record<string, string> }[];
    };
    return {
      env: Object.assign({}, ...job.steps.map((step) => step.env ?? {})) as Record<string, string>,
      services: Object.values(job.services ?? {}).map((s) => ({ image: s.image, env: s.env ?? {}, host: '127.0.0.1', ports: s.ports ?? [], health: /--health-cmd "([^"]+)"/.exec(s.options ?? '')?.[1] })),
    };
  }

  it('the default service starts none', async () => {
    for (const given of [{}, { ci: 'gitlab' }] as Record<string, string>[]) expect((await servicesOf(given)).services).toEqual([]);
  });

  it.each([
    ['github', 'postgres', 'redis'],
    ['github', 'mysql', 'memory'],
    ['gitlab', 'postgres', 'memory'],
    ['gitlab', 'mysql', 'redis'],
  ])('%s, %s, %s store: pinned by the digests of data/versions.json, told only what their entrypoints read, and the tests pointed at them', async (ci, database, store) => {
    const { env, services } = await servicesOf({ ci, database, rateLimitStore: store });
    const expected = [database, ...(store === 'redis' ? ['redis'] : [])] as ('postgres' | 'mysql' | 'redis')[];
    expect(services.map((s) => s.image)).toEqual(expected.map((which) => imageRef(versions.services[which])));
    for (const [i, which] of expected.entries()) {
      const pin = versions.services[which];
      const facts = ciFacts.serviceImages[`${pin.image}:${pin.tag}`];
      expect(facts, `${pin.image}:${pin.tag} has no facts in data/ci-facts.json`).toBeDefined();
      expect(facts!.source).toMatch(SOURCE);
      const service = services[i]!;
      for (const name of Object.keys(service.env)) expect(Object.keys(facts!.env), `${which}: ${name}`).toContain(name);
      if (which === 'postgres') expect(service.env.POSTGRES_PASSWORD).toMatch(/^\S{8,}$/);
      if (which === 'mysql') expect(service.env.MYSQL_RANDOM_ROOT_PASSWORD ?? service.env.MYSQL_ROOT_PASSWORD).toMatch(/^(yes|\S{8,})$/);
      if (ci === 'github') {
        expect(service.ports).toEqual([`${facts!.port}:${facts!.port}`]);
        expect(Object.keys(facts!.commands)).toContain(service.health!.split(' ')[0]);
      }
      const prefix = which === 'redis' ? 'TEST_REDIS' : 'TEST_DB';
      expect(env[`${prefix}_HOST`]).toBe(service.host);
      expect(env[`${prefix}_PORT`]).toBe(String(facts!.port));
      if (which !== 'redis') {
        // The tests' database and user are the ones the entrypoint creates.
        const database = which === 'postgres' ? service.env.POSTGRES_DB : service.env.MYSQL_DATABASE;
        const user = which === 'postgres' ? service.env.POSTGRES_USER : service.env.MYSQL_USER;
        expect([env.TEST_DB_NAME, env.TEST_DB_USER]).toEqual([database, user]);
      }
    }
  });
});

describe('downloads: published assets of the pinned releases, each verified', () => {
  it.each(Object.keys(variants))('%s', async (variant) => {
    const known = knownUrls();
    let assets = 0;
    for (const block of await blocksOf(variants[variant]!)) {
      const downloads = downloadsOf(block);
      const commands = expandedCommands(block);
      const fileOf = (url: string) => downloads.find((d) => d.url === url)?.file;
      for (const d of downloads) {
        const fact = known.get(d.url);
        expect(fact, `${block.where}: ${d.url} is not a download recorded for the pinned release in data/ci-facts.json (its asset, checksum file, signature or key)`).toBeDefined();
        if (fact!.role !== 'asset') continue;
        assets++;
        const { release } = fact!;
        if (release.sha256) {
          // The recorded sha256, checked against the downloaded file itself.
          expect(block.script, `${block.where}: ${d.file} is not checked against its recorded sha256`).toContain(`${release.sha256}  ${d.file}`);
          expect(commands.some((w) => w[0] === 'sha256sum' && (w.includes('--check') || w.includes('-c'))), block.where).toBe(true);
        } else if (release.checksum) {
          const sums = fileOf(release.checksum.url);
          expect(sums, `${block.where}: ${d.url} without its checksum file ${release.checksum.url}`).toBeDefined();
          const checked = commands.some((w) => w[0] === 'sha256sum' && w.includes('--check') && w.includes(sums!));
          expect(checked, `${block.where}: ${d.file} is not checked against ${sums}`).toBe(true);
        } else {
          const bundle = fileOf(release.signature!.url);
          const key = fileOf(release.signature!.key);
          expect(bundle, `${block.where}: ${d.url} without its signature bundle`).toEqual(expect.any(String));
          expect(key, `${block.where}: ${d.url} without its key`).toEqual(expect.any(String));
          const verified = commands.some(
            (w) => w[0] === 'cosign' && w[1] === 'verify-blob' && w[w.indexOf('--key') + 1] === key && w[w.indexOf('--bundle') + 1] === bundle && w.at(-1) === d.file,
          );
          expect(verified, `${block.where}: ${d.file} is not verified with cosign verify-blob`).toBe(true);
        }
        // What is extracted from an archive is what the archive holds.
        if (release.archiveMember) {
          const tar = commands.find((w) => w[0] === 'tar' && w.includes(d.file));
          expect(tar?.at(-1), `${block.where}: ${d.file}`).toBe(release.archiveMember);
        }
      }
    }
    expect(assets, 'downloads found').toBeGreaterThan(0);
  });
});

describe('GitLab jobs against their images', () => {
  it.each(['gitlab', 'gitlab-dockerhub', 'gitlab-dhi'])('every job image is known; an image whose entrypoint is a program gets entrypoint [""] (%s)', async (variant) => {
    const text = (await renderText(variants[variant]!)).get('.gitlab-ci.yml')!;
    const { doc, jobs } = parseGitlab(text);
    for (const [id, job] of Object.entries(jobs)) {
      const image = imageOf(job, doc.variables as Record<string, string>);
      const facts = imageFacts(image);
      expect(facts, `job ${id}: image ${image} has no facts in data/ci-facts.json`).toBeDefined();
      if (!facts!.entrypointRunsCommand) {
        const entrypoint = typeof job.image === 'object' ? job.image.entrypoint : undefined;
        expect(entrypoint, `job ${id}: ${image}'s entrypoint is ${JSON.stringify(facts!.entrypoint)}, so the script needs entrypoint: [""]`).toEqual(['']);
      }
    }
  });

  it.each(['gitlab', 'gitlab-dockerhub', 'gitlab-dhi'])('every command a job calls is in its image (on PATH, or by absolute path) or installed by the job first (%s)', async (variant) => {
    for (const block of await blocksOf(variants[variant]!)) {
      const facts = imageFacts(block.image!)!;
      const base = ciFacts.bases[facts.base]!;
      const onPath = new Set([...base.commands, ...Object.keys(facts.commands).filter((c) => !facts.offPath?.includes(c))]);
      const paths = new Set(Object.values(facts.commands));
      // What the job installs before using it: apt packages, the generator from npm, a binary from a tarball.
      const installed = new Set<string>();
      for (const words of expandedCommands(block)) {
        if (words[0] === 'apt-get' && words.includes('install')) words.filter((w) => !w.startsWith('-') && w !== 'apt-get' && w !== 'install').forEach((p) => installed.add(p));
        if (words.includes('npm') && words.includes('--global')) installed.add('create-hardened-service');
        if (words[0] === 'tar' && words.includes('-C')) installed.add(words.at(-1)!.split('/').pop()!);
      }
      for (const command of commandsOf(block.script)) {
        const where = `${block.where} (${block.image}): ${command}`;
        if (BUILTINS.has(command)) continue;
        if (command.startsWith('/')) expect(paths.has(command), `${where} is not a path in the image`).toBe(true);
        else {
          expect(onPath.has(command) || installed.has(command), `${where} is not on the image's PATH`).toBe(true);
          if (!installed.has(command)) expect([...facts.absent, ...base.absent], `${where}: the image lacks it`).not.toContain(command);
        }
      }
    }
  });

  it('calls kubeconform, kube-linter, cosign and crane by the path their images have them at', async () => {
    const { jobs } = parseGitlab((await renderText({ ci: 'gitlab' })).get('.gitlab-ci.yml')!);
    const first = (id: string) => commandsOf(scriptLines(jobs[id]!).join('\n'));
    expect(first('kubeconform')).toContain('/kubeconform');
    expect(first('kube-linter')).toContain('/kube-linter');
    expect(first('image-sign')).toContain('/ko-app/cosign');
    expect(first('image-tag')).toContain('/ko-app/crane');
  });
});

describe('GitHub steps against the pinned actions', () => {
  it.each(['github', 'github-private-registry'])('every with: input exists in the action\'s action.yml, required ones are given, none is deprecated (%s)', async (variant) => {
    for (const [path, text] of workflowFiles(await renderText(variants[variant]!))) {
      for (const [id, job] of Object.entries(parseWorkflow(text).jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses) continue;
          const action = step.uses.split('@')[0]!;
          const facts = ciFacts.actions[action];
          const where = `${path} job ${id}: ${action}`;
          expect(facts, `${where} has no inputs in data/ci-facts.json`).toBeDefined();
          const given = Object.keys(step.with ?? {});
          for (const input of given) {
            expect(facts!.inputs, `${where}: input ${input}`).toContain(input);
            expect(facts!.deprecated?.[input], `${where}: input ${input} is deprecated`).toBeUndefined();
          }
          for (const input of facts!.required) expect(given, `${where}: required input ${input}`).toContain(input);
        }
      }
    }
  });
});

describe('every shell block of both pipelines: bash -n and shellcheck', () => {
  it.each(Object.keys(variants))('%s', async (variant) => {
    const blocks = await blocksOf(variants[variant]!);
    expect(blocks.length).toBeGreaterThan(10);
    for (const block of blocks) {
      const syntax = await execa('bash', ['-n'], { input: block.script, reject: false });
      expect(syntax.stderr, `${block.where}: bash -n`).toBe('');
      expect(await shellcheck(block.script, block.dialect), `${block.where}: shellcheck -s ${block.dialect}`).toBe('');
    }
  });

  it('shellcheck in this test is real: it reports an unquoted variable', async () => {
    expect(await shellcheck('rm $1\n', 'sh')).toMatch(/SC2086/);
  });
});
