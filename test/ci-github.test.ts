import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generatorVersion, packageRoot, templatesRoot } from '../core/package-root.js';
import { versions } from '../core/versions.js';
import { parseWorkflow, renderText, runActionlint, type Step, usesLines, workflowFiles } from './support/ci-workflows.js';

/** Answers worth covering: defaults (GHCR), Docker Hub, a private registry with a port. */
const variants: Record<string, Record<string, string>> = {
  default: {},
  dockerhub: { image: 'acme/orders-api' },
  'private-registry': { image: 'registry.example.com:5000/team/orders-api', description: 'R&D \'core\' ${{ github.token }} "x"' },
  'postgres-redis': { database: 'postgres', rateLimitStore: 'redis' },
  mysql: { database: 'mysql' },
};

/** Jobs allowed to hold write permissions, and which. Everything else must stay read-only. */
const allowedWrites: Record<string, Record<string, string[]>> = {
  'ci.yml': { check: ['security-events'] },
  'security.yml': {
    codeql: ['security-events'],
    dependencies: ['security-events'],
    config: ['security-events'],
    secrets: ['security-events'],
  },
  'container.yml': {
    // The reusable CI and Security workflows it calls before publishing upload SARIF.
    ci: ['security-events'],
    security: ['security-events'],
    hadolint: ['security-events'],
    publish: ['packages'],
    // Only the job that signs and attests the index gets an OIDC token.
    merge: ['packages', 'id-token', 'attestations'],
  },
  'rescan.yml': { rescan: ['security-events'] },
  'scorecard.yml': { analysis: ['security-events', 'id-token'] },
  // Never the job that runs the generator: only the one that commits its patch.
  'upgrade.yml': { 'pull-request': ['contents', 'pull-requests'] },
};

const workflowTemplatesDir = join(templatesRoot, 'ci-github', '.github', 'workflows');

describe('GitHub Actions workflows', () => {
  it('emits ci, security, container, chart, rescan, scorecard and upgrade workflows and dependabot.yml, and no .gitlab-ci.yml', async () => {
    const files = await renderText();
    expect(workflowFiles(files).map(([p]) => basename(p)).sort()).toEqual([
      'chart.yml',
      'ci.yml',
      'container.yml',
      'rescan.yml',
      'scorecard.yml',
      'security.yml',
      'upgrade.yml',
    ]);
    expect(files.has('.github/dependabot.yml')).toBe(true);
    expect(files.has('.gitlab-ci.yml')).toBe(false);
  });

  it.each(Object.keys(variants))('every workflow passes actionlint 1.7 with zero findings (%s)', async (variant) => {
    const files = await renderText(variants[variant]);
    for (const [path, text] of workflowFiles(files)) {
      expect(await runActionlint(text, path), path).toEqual([]);
    }
  });

  it('actionlint in this test is real: it reports an injected expression', async () => {
    const bad = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n';
    expect((await runActionlint(bad, 'bad.yml')).map((f) => f.kind)).toContain('expression');
  });

  it.each(Object.keys(variants))('hardening rules hold for every workflow (%s)', async (variant) => {
    const files = await renderText(variants[variant]);
    for (const [path, text] of workflowFiles(files)) {
      const file = basename(path);
      const wf = parseWorkflow(text);

      // Triggers: nothing that runs untrusted code with secrets.
      expect(Object.keys(wf.on), path).not.toContain('pull_request_target');
      expect(Object.keys(wf.on), path).not.toContain('workflow_run');

      // Top level: read-only.
      expect(wf.permissions, path).toEqual({ contents: 'read' });

      // Concurrency group per workflow and ref.
      expect(typeof wf.concurrency === 'object' && wf.concurrency.group, path).toMatch(/\$\{\{ github\.ref \}\}/);

      for (const [id, job] of Object.entries(wf.jobs)) {
        const where = `${path} job ${id}`;
        if (job.uses !== undefined) {
          // A call of one of this service's own reusable workflows: its jobs carry their own timeouts.
          expect(job.uses, where).toMatch(/^\.\/\.github\/workflows\/[a-z]+\.yml$/);
          expect(job.steps, where).toBeUndefined();
        } else {
          expect(job['timeout-minutes'], where).toBeGreaterThan(0);
          expect(job['timeout-minutes'], where).toBeLessThanOrEqual(60);
        }

        const perms = job.permissions ?? {};
        expect(typeof perms, where).toBe('object');
        const writes = Object.entries(perms as Record<string, string>)
          .filter(([, level]) => level === 'write')
          .map(([scope]) => scope)
          .sort();
        expect(writes, where).toEqual([...(allowedWrites[file]?.[id] ?? [])].sort());
        for (const level of Object.values(perms as Record<string, string>)) expect(['read', 'write', 'none'], where).toContain(level);

        for (const step of job.steps ?? []) {
          if (step.run !== undefined) {
            // No expression is expanded into a shell script: values reach scripts through env.
            expect(step.run, `${where}: run`).not.toContain('${{');
          }
          if (step.uses?.startsWith('actions/checkout@')) {
            expect(step.with?.['persist-credentials'], `${where}: checkout`).toBe(false);
          }
        }
      }
      // github.event.* only in `if:` conditions, never in values that reach a step.
      for (const line of text.split('\n')) {
        if (line.includes('github.event.') && !/^\s*if:/.test(line)) throw new Error(`${path}: github.event in ${line.trim()}`);
      }
    }
  });

  it('every uses: is pinned to the 40-hex SHA in data/versions.json, with its version in a comment', async () => {
    const files = await renderText();
    let pins = 0;
    for (const [path, text] of workflowFiles(files)) {
      for (const use of usesLines(text)) {
        if (/uses:\s*\.\/\.github\/workflows\//.test(use.line)) continue; // this service's own reusable workflows
        expect(use.ref, `${path}: ${use.line}`).toMatch(/^[0-9a-f]{40}$/);
        const repo = use.action.split('/').slice(0, 2).join('/');
        const pin = versions.actions[repo]!;
        expect(pin, `${path}: ${repo} is not in data/versions.json`).toBeDefined();
        expect(use.ref, `${path}: ${use.line}`).toBe(pin.sha);
        expect(use.comment, `${path}: ${use.line}`).toBe(pin.version);
        pins++;
      }
    }
    expect(pins).toBeGreaterThan(30);
  });

  it('every action pin in data/versions.json names its public source and when it was checked', () => {
    for (const [repo, pin] of Object.entries(versions.actions)) {
      expect(pin.sha, repo).toMatch(/^[0-9a-f]{40}$/);
      expect(pin.version, repo).toMatch(/^v\d+(\.\d+){0,2}$/);
      expect(pin.source.length, repo).toBeGreaterThan(20);
      expect(pin.checked, repo).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('the issue\'s scanners are all there', async () => {
    const files = await renderText();
    const all = workflowFiles(files).map(([, t]) => t).join('\n');
    for (const needle of [
      'npm ci --ignore-scripts',
      'npm run typecheck',
      'npm test',
      'npm run build',
      'npm audit signatures',
      'languages: javascript-typescript',
      'scan-type: fs',
      'scan-type: config',
      'scan-type: image',
      'format: cyclonedx',
      'gitleaks',
      'actions/dependency-review-action@',
      'ossf/scorecard-action@',
      'hadolint/hadolint-action@',
      'cosign sign',
      'actions/attest-build-provenance@',
      'push-by-digest=true',
      'helm lint --strict chart',
      'helm template',
      'kubeconform -strict',
      `-kubernetes-version "$KUBERNETES_VERSION"`,
      'kube-linter lint',
      'create-hardened-service check . --format sarif',
    ]) {
      expect(all, needle).toContain(needle);
    }
    // The image scan fails on fixable HIGH/CRITICAL.
    const container = parseWorkflow(files.get('.github/workflows/container.yml')!);
    const gate = container.jobs.scan!.steps!.find((s) => s.with?.['scan-type'] === 'image' && s.with?.['exit-code'] === '1');
    expect(gate?.with).toMatchObject({ severity: 'HIGH,CRITICAL', 'ignore-unfixed': true });
    // Findings reach code scanning as SARIF.
    expect(all.match(/codeql-action\/upload-sarif@/g)!.length).toBeGreaterThanOrEqual(5);
  });

  it('publishes only after CI, Chart, Security and the image checks pass, which it calls as reusable workflows on pushes', async () => {
    const files = await renderText();
    const container = parseWorkflow(files.get('.github/workflows/container.yml')!);
    expect([container.jobs.publish!.needs].flat().sort()).toEqual(['base-images', 'chart', 'ci', 'hadolint', 'scan', 'security']);
    for (const [id, file] of [['ci', 'ci.yml'], ['chart', 'chart.yml'], ['security', 'security.yml']] as const) {
      expect(container.jobs[id]!.uses).toBe(`./.github/workflows/${file}`);
      expect(container.jobs[id]!.if).toBe("github.event_name == 'push'");
      const called = parseWorkflow(files.get(`.github/workflows/${file}`)!);
      // Called on pushes, triggered by pull requests itself: never both for one event.
      expect(Object.keys(called.on), file).toContain('workflow_call');
      expect(Object.keys(called.on), file).toContain('pull_request');
      expect(Object.keys(called.on), file).not.toContain('push');
    }
    // The conformance gate is one of the jobs publish waits for.
    expect(parseWorkflow(files.get('.github/workflows/ci.yml')!).jobs.check).toBeDefined();
  });

  it('rescans the published digests weekly (SECURITY.md says so): the default branch\'s and the newest release\'s', async () => {
    const files = await renderText();
    const rescan = parseWorkflow(files.get('.github/workflows/rescan.yml')!);
    expect(rescan.on.schedule).toEqual([{ cron: expect.stringMatching(/^\d+ \d+ \* \* [0-6]$/) }]);
    const steps = rescan.jobs.rescan!.steps!;
    const scans = steps.filter((s) => s.uses?.startsWith('aquasecurity/trivy-action@'));
    expect(scans.map((s) => s.with?.['image-ref'])).toEqual([
      '${{ steps.image.outputs.name }}@${{ steps.published.outputs.default }}',
      '${{ steps.image.outputs.name }}@${{ steps.published.outputs.release }}',
    ]);
    for (const scan of scans) expect(scan.with).toMatchObject({ severity: 'HIGH,CRITICAL', 'ignore-unfixed': true, 'exit-code': '1', trivyignores: '.trivyignore' });
    const resolve = steps.find((s) => s.id === 'published')!.run!;
    expect(resolve).toContain('docker buildx imagetools inspect');
    expect(files.get('SECURITY.md')).toContain('`.github/workflows/rescan.yml` rescans the published image weekly (Mondays, 06:37 UTC)');
  });

  it('the upgrade pull request\'s GitHub App token uses client-id (app-id is deprecated) and only the permissions it needs', async () => {
    const upgrade = parseWorkflow((await renderText()).get('.github/workflows/upgrade.yml')!);
    const token = upgrade.jobs['pull-request']!.steps!.find((s) => s.uses?.startsWith('actions/create-github-app-token@'))!;
    expect(token.with).toEqual({
      'client-id': '${{ vars.UPGRADE_APP_CLIENT_ID }}',
      'private-key': '${{ secrets.UPGRADE_APP_PRIVATE_KEY }}',
      'permission-contents': 'write',
      'permission-pull-requests': 'write',
      // An upgrade may change .github/workflows/: only the workflows permission lets it be pushed.
      'permission-workflows': 'write',
    });
  });

  it('publishes only from the default branch or a tag, to the configured registry', async () => {
    const ghcr = parseWorkflow((await renderText()).get('.github/workflows/container.yml')!);
    expect(ghcr.jobs.publish!.if).toContain("github.event_name == 'push'");
    expect(ghcr.jobs.publish!.if).toContain('default_branch');
    expect(ghcr.jobs.publish!.if).toContain("startsWith(github.ref, 'refs/tags/v')");
    // No image named: this repository's package on ghcr.io, lower-cased at run time (core/image.ts).
    const imageStep = (wf: typeof ghcr) => wf.jobs.publish!.steps!.find((s) => s.id === 'image')!;
    expect(imageStep(ghcr).run).toContain('image="ghcr.io/${GITHUB_REPOSITORY,,}"');
    const login = ghcr.jobs.publish!.steps!.find((s) => s.uses?.startsWith('docker/login-action@'))!;
    expect(login.with).toEqual({ registry: 'ghcr.io', username: '${{ github.actor }}', password: '${{ secrets.GITHUB_TOKEN }}' });

    const other = parseWorkflow(
      (await renderText({ image: 'registry.example.com:5000/team/orders-api' })).get('.github/workflows/container.yml')!,
    );
    const otherLogin = other.jobs.publish!.steps!.find((s) => s.uses?.startsWith('docker/login-action@'))!;
    expect(otherLogin.with).toEqual({
      registry: 'registry.example.com:5000',
      username: '${{ secrets.REGISTRY_USERNAME }}',
      password: '${{ secrets.REGISTRY_PASSWORD }}',
    });
    expect(imageStep(other).env).toEqual({ NAMED_IMAGE: 'registry.example.com:5000/team/orders-api' });
    expect(imageStep(other).run).toContain('image="${NAMED_IMAGE}"');
    expect((await renderText({ image: 'acme/orders-api' })).get('.github/workflows/container.yml')).toContain(
      'registry: docker.io',
    );
  });

  it('dependabot.yml covers npm, docker and github-actions, weekly and grouped', async () => {
    const dependabot = parse((await renderText()).get('.github/dependabot.yml')!);
    expect(dependabot.version).toBe(2);
    const byEcosystem = Object.fromEntries(dependabot.updates.map((u: { 'package-ecosystem': string }) => [u['package-ecosystem'], u]));
    expect(Object.keys(byEcosystem).sort()).toEqual(['docker', 'github-actions', 'npm']);
    for (const update of Object.values(byEcosystem) as { schedule: { interval: string }; groups: object; directory: string }[]) {
      expect(update.schedule.interval).toBe('weekly');
      expect(Object.keys(update.groups).length).toBeGreaterThan(0);
      expect(update.directory).toBe('/');
    }
  });
});

describe('workflow templates: Handlebars next to Actions expressions', () => {
  async function templates(): Promise<[string, string][]> {
    const names = (await readdir(workflowTemplatesDir)).filter((n) => n.endsWith('.yml.hbs')).sort();
    return Promise.all(names.map(async (n) => [n, await readFile(join(workflowTemplatesDir, n), 'utf8')] as [string, string]));
  }

  it('every workflow is a .yml.hbs whose GitHub expressions are escaped as $\\{{ }}', async () => {
    const list = await templates();
    expect(list.length).toBe(7);
    for (const [name, source] of list) {
      // An unescaped ${{ would be read by Handlebars (and fail in strict mode, or vanish).
      expect(source, name).not.toMatch(/\$\{\{/);
    }
  });

  it('the only Handlebars expressions are action pins, partials, pipeline values, the backing services (booleans and pins from data/) and validated answers', async () => {
    const allowed = /^(action|yaml|if|unless|else|pipeline\..+|backing\.[a-zA-Z.]+|name|image|namespace|generated-header|install-generator|install-helm|org-preset|ci-integration-env|image-name-step|gh-registry-login|gh-base-login|each|this\.(platform|github|pair))$/;
    for (const [name, source] of await templates()) {
      const seen: string[] = [];
      const visit = (node: unknown): void => {
        if (!node || typeof node !== 'object') return;
        const n = node as { type?: string; path?: { original?: string }; name?: { original?: string } };
        if (n.type === 'MustacheStatement' || n.type === 'BlockStatement') seen.push(n.path!.original!);
        if (n.type === 'PartialStatement') seen.push(n.name!.original!);
        for (const value of Object.values(node)) {
          if (Array.isArray(value)) value.forEach(visit);
          else if (value && typeof value === 'object') visit(value);
        }
      };
      visit(Handlebars.parse(source));
      for (const expr of seen) expect(expr, `${name}: {{${expr}}}`).toMatch(allowed);
    }
  });

  it.each(Object.keys(variants))('every ${{ }} of a template survives rendering unchanged, in order (%s)', async (variant) => {
    const files = await renderText(variants[variant]);
    // A partial's expressions count where it is included.
    const partial = (n: string) => readFile(join(templatesRoot, '_partials', `${n}.hbs`), 'utf8');
    const expand = async (text: string) => {
      let out = text;
      for (const m of text.matchAll(/\{\{>\s*([\w-]+)[^}]*\}\}/g)) out = out.replace(m[0], await partial(m[1]!));
      return out;
    };
    for (const [name, template] of await templates()) {
      const source = await expand(template);
      const escaped = (text: string) => [...text.matchAll(/\$\\(\{\{[^}]*\}\})/g)].map((m) => `$${m[1]}`);
      const emitted = files.get(`.github/workflows/${name.replace(/\.hbs$/, '')}`)!;
      const actual = [...emitted.matchAll(/\$\{\{[^}]*\}\}/g)].map((m) => m[0]);
      const count = (list: string[]) => list.reduce((m, e) => m.set(e, (m.get(e) ?? 0) + 1), new Map<string, number>());
      // Outside {{#if}} blocks every expression is emitted, as written and as often as written...
      const unconditional = count(escaped(source.replace(/\{\{#if[\s\S]*?\{\{\/if\}\}/g, '')));
      const all = count(escaped(source));
      const got = count(actual);
      expect(unconditional.size, name).toBeGreaterThan(0);
      for (const [expr, n] of unconditional) expect(got.get(expr) ?? 0, `${name}: ${expr}`).toBeGreaterThanOrEqual(n);
      // ...and nothing is emitted that the template did not write.
      for (const [expr, n] of got) expect(n, `${name}: ${expr}`).toBeLessThanOrEqual(all.get(expr) ?? 0);
      expect(emitted, name).not.toMatch(/(^|[^$\\])\$\s*$/m);
      expect(emitted, name).not.toContain('$\\{{');
      expect(emitted, name).not.toMatch(/&amp;|&#x27;|&quot;/);
    }
  });

  it('a missing pin fails the render loudly', async () => {
    const { pinnedAction } = await import('../core/render/handlebars-env.js');
    expect(pinnedAction('github/codeql-action/init')).toBe(
      `github/codeql-action/init@${versions.actions['github/codeql-action']!.sha} # ${versions.actions['github/codeql-action']!.version}`,
    );
    expect(() => pinnedAction('evil/action')).toThrow(/no pin for evil\/action/);
  });
});

// The default variant's workflows are in the whole-tree snapshots (test/snapshots.test.ts).
describe('snapshots of the emitted workflows', () => {
  it.each(['private-registry'])('%s', async (variant) => {
    const files = await renderText(variants[variant]);
    const stable = (text: string) => text.replaceAll(generatorVersion, '<generator-version>');
    for (const [path, text] of [...workflowFiles(files), ['.github/dependabot.yml', files.get('.github/dependabot.yml')!] as const]) {
      await expect(stable(text)).toMatchFileSnapshot(`__snapshots__/ci/github/${variant}/${basename(path)}`);
    }
  });
});

describe('multi-arch image and base images (container.yml), held to data/ci-facts.json and data/base-images.json', () => {
  const facts = JSON.parse(readFileSync(join(packageRoot, 'data', 'ci-facts.json'), 'utf8')).multiArch.github;
  const bases = JSON.parse(readFileSync(join(packageRoot, 'data', 'base-images.json'), 'utf8'));
  type MatrixJob = { strategy?: { 'fail-fast'?: boolean; matrix?: { include?: Record<string, string>[] } } };
  const container = async (given: Record<string, string> = {}) => parseWorkflow((await renderText(given)).get('.github/workflows/container.yml')!);
  const stepUsing = (steps: Step[], action: string) => steps.filter((s) => s.uses?.startsWith(`${action}@`));

  it.each([
    ['linux/amd64,linux/arm64', ['linux/amd64', 'linux/arm64']],
    ['linux/arm64', ['linux/arm64']],
  ])('--platforms %s: each platform is built, scanned and pushed by digest on its native runner', async (platforms, expected) => {
    const wf = await container(platforms === 'linux/amd64,linux/arm64' ? {} : { platforms });
    for (const id of ['scan', 'publish']) {
      const job = wf.jobs[id]! as typeof wf.jobs[string] & MatrixJob;
      expect(job.strategy?.['fail-fast'], id).toBe(false);
      expect(job.strategy?.matrix?.include, id).toEqual(
        expected.map((platform) => ({ platform, runner: facts.runners[platform], pair: platform.replace('/', '-') })),
      );
      expect(job['runs-on'], id).toBe('${{ matrix.runner }}');
      const build = stepUsing(job.steps!, 'docker/build-push-action')[0]!;
      expect(build.with?.platforms, id).toBe('${{ matrix.platform }}');
      // Every platform's image fails the job on fixable HIGH/CRITICAL.
      const gate = job.steps!.find((s) => s.with?.['scan-type'] === 'image' && s.with?.['exit-code'] === '1');
      expect(gate?.with, id).toMatchObject({ severity: 'HIGH,CRITICAL', 'ignore-unfixed': true });
    }
    const push = stepUsing(wf.jobs.publish!.steps!, 'docker/build-push-action')[0]!;
    expect(push.with?.outputs).toBe(facts.build.outputs.replace('<image>', '${{ steps.image.outputs.name }}'));
    expect(wf.jobs.publish!.steps!.find((s) => s.with?.['image-ref'] === '${{ steps.image.outputs.name }}@${{ steps.build.outputs.digest }}' && s.with?.['exit-code'] === '1')).toBeDefined();
    const digests = stepUsing(wf.jobs.publish!.steps!, 'actions/upload-artifact').find((s) => String(s.with?.name).startsWith('digests-'))!;
    expect(digests.with?.name).toBe('digests-${{ matrix.pair }}');
  });

  it('the merge job makes one index from the digests as Docker documents, then signs and attests the index digest and tags it last', async () => {
    const wf = await container();
    const merge = wf.jobs.merge!;
    expect([merge.needs].flat()).toEqual(['publish']);
    const downloads = stepUsing(merge.steps!, 'actions/download-artifact');
    expect(downloads[0]!.with).toMatchObject({ pattern: facts.merge.download.pattern, 'merge-multiple': facts.merge.download['merge-multiple'] });
    const names = merge.steps!.map((s) => s.name ?? s.uses);
    const index = merge.steps!.find((s) => s.id === 'index')!;
    expect(index.run).toContain(`${facts.merge.command} --tag "\${IMAGE}:sha-\${GITHUB_SHA}" "\${refs[@]}"`);
    expect(index.run).toContain('refs+=("${IMAGE}@sha256:${digest}")');
    const sign = merge.steps!.find((s) => s.run?.includes('cosign sign'))!;
    expect(sign.env?.DIGEST).toBe('${{ steps.index.outputs.digest }}');
    expect(sign.run).toContain('cosign sign --yes --new-bundle-format=false --use-signing-config=false "${IMAGE}@${DIGEST}"');
    const provenance = stepUsing(merge.steps!, 'actions/attest-build-provenance')[0]!;
    expect(provenance.with?.['subject-digest']).toBe('${{ steps.index.outputs.digest }}');
    const tag = merge.steps!.find((s) => s.name === 'Tag the verified index')!;
    expect(names.indexOf(tag.name)).toBeGreaterThan(names.indexOf(provenance.name ?? provenance.uses));
    expect(names.indexOf(tag.name)).toBeGreaterThan(names.indexOf(sign.name));
    expect(tag.run).toContain(facts.merge.inspect);
    // The chart deploys the index digest.
    expect(tag.run).toContain('image.digest=${DIGEST}');
  });

  it('distroless: the runtime image\'s keyless signature is verified with its published identity before any build', async () => {
    const wf = await container();
    const verify = wf.jobs['base-images']!.steps!.find((s) => s.run?.includes('cosign verify'))!;
    expect(verify.run).toContain(`--certificate-identity ${bases.distrolessVerify.identity}`);
    expect(verify.run).toContain(`--certificate-oidc-issuer ${bases.distrolessVerify.issuer}`);
    expect(verify.run).toContain(versions.node.lines.find((l) => l.major === versions.node.defaultMajor)!.runtime.digest);
    expect([wf.jobs.scan!.needs].flat()).toContain('base-images');
    expect([wf.jobs.publish!.needs].flat()).toContain('base-images');
    expect(JSON.stringify(wf)).not.toContain('dhi.io');
  });

  it('DHI: every job that pulls logs in to dhi.io after a one-line failure when its secrets are missing, and Docker Scout verifies both base images first', async () => {
    const wf = await container({ base: 'dhi' });
    for (const id of ['base-images', 'scan', 'publish']) {
      const steps = wf.jobs[id]!.steps!;
      const check = steps.findIndex((s) => s.run?.includes('DHI_USERNAME'));
      const login = steps.findIndex((s) => s.with?.registry === bases.dhi.registry);
      expect(check, id).toBeGreaterThanOrEqual(0);
      expect(steps[check]!.run!.split('\n').filter((l) => l.includes('::error::'))).toHaveLength(1);
      expect(login, id).toBeGreaterThan(check);
      expect(steps[login]!.with).toEqual({ registry: 'dhi.io', username: '${{ secrets.DHI_USERNAME }}', password: '${{ secrets.DHI_TOKEN }}' });
      const build = steps.findIndex((s) => s.uses?.startsWith('docker/build-push-action@'));
      if (build >= 0) expect(build, id).toBeGreaterThan(login);
    }
    const verify = wf.jobs['base-images']!.steps!.find((s) => s.run?.includes('docker scout attest get'))!;
    const line = versions.node.lines.find((l) => l.major === versions.node.defaultMajor)!;
    for (const image of [line.dhi!.build, line.dhi!.runtime]) expect(verify.run).toContain(`${image.image}:${image.tag}@${image.digest}`);
    expect(verify.run).toContain(bases.dhi.verify.tool.replace(' <image>', ' "$base"'));
  });
});
