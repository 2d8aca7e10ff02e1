import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubernetesTarget } from '../generators/features/kubernetes.js';
import { checkPodSecurity } from '../lib/policy/pod-security.js';
import { invalidValues, valuesMatrix, weakeningValues } from './support/chart-values.js';
import { DEPLOYED_IMAGE, helmLint, helmTemplate, parseManifests, runHelm, writeService } from './support/kubernetes.js';

// The emitted chart, checked by the real helm binary (v4, from .tools/bin) against the pinned Kubernetes minor.
const { helmKubeVersion, pssVersion, oldestSupported } = kubernetesTarget();
let chartDir: string;

beforeAll(async () => {
  const { dir } = await writeService();
  chartDir = join(dir, 'chart');
});

describe('helm lint --strict and helm template', () => {
  it('uses the real helm 4', async () => {
    const { stdout } = await runHelm(['version', '--template', '{{.Version}}']);
    expect(stdout).toMatch(/^v4\./);
  });

  it.each(Object.keys(valuesMatrix))('%s: lint passes and template renders', async (combo) => {
    const values = valuesMatrix[combo]!;
    const lint = await helmLint(chartDir, values);
    expect(lint.exitCode, lint.stdout + lint.stderr).toBe(0);
    expect(lint.stdout).toContain('0 chart(s) failed');
    const rendered = await helmTemplate(chartDir, values, { kubeVersion: helmKubeVersion });
    expect(rendered.exitCode, rendered.stderr).toBe(0);
    expect(parseManifests(rendered.stdout).length).toBeGreaterThanOrEqual(5);
  });

  it('refuses a Kubernetes minor upstream no longer supports, accepts the oldest supported one and provider builds', async () => {
    const result = await helmTemplate(chartDir, {}, { kubeVersion: '1.34.9' });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/kubeVersion|incompatible/i);
    for (const kubeVersion of [`${oldestSupported}.0`, `${oldestSupported}.2-eks-1`]) {
      const ok = await helmTemplate(chartDir, {}, { kubeVersion });
      expect(ok.exitCode, ok.stderr).toBe(0);
    }
  });
});

describe('the schema guards security settings', () => {
  it.each(Object.keys(weakeningValues))('rejects %s', async (name) => {
    const values = weakeningValues[name]!;
    const lint = await helmLint(chartDir, values);
    expect(lint.exitCode).not.toBe(0);
    expect(lint.stdout + lint.stderr).toMatch(/schema/i);
    const rendered = await helmTemplate(chartDir, values, { kubeVersion: helmKubeVersion });
    expect(rendered.exitCode).not.toBe(0);
  });

  it.each(Object.keys(invalidValues))('rejects %s', async (name) => {
    const rendered = await helmTemplate(chartDir, invalidValues[name]!, { kubeVersion: helmKubeVersion });
    expect(rendered.exitCode, rendered.stdout).not.toBe(0);
    expect(rendered.stderr).toMatch(/schema/i);
  });

  it('accepts weakening values only through the escape hatch with a reason, and records it', async () => {
    const reason = 'legacy agent needs NET_ADMIN until PLAT-123 ships';
    const values = {
      securityException: { allowWeakerSecurity: true, reason },
      securityContext: { capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } },
    };
    const lint = await helmLint(chartDir, values);
    expect(lint.exitCode, lint.stdout + lint.stderr).toBe(0);
    const rendered = await helmTemplate(chartDir, values, { kubeVersion: helmKubeVersion });
    expect(rendered.exitCode, rendered.stderr).toBe(0);
    const deployment = parseManifests(rendered.stdout).find((o) => o.kind === 'Deployment')!;
    expect(deployment.metadata.annotations?.['hardened-service/security-exception']).toBe(reason);
    expect(deployment.spec.template.spec.containers[0].securityContext.capabilities.add).toEqual(['NET_ADMIN']);
    // The namespace still enforces restricted: the checker (and PSA) would reject this pod. At restricted PSA
    // runs capabilities_restricted in place of capabilities_baseline (OverrideCheckIDs); baseline names the latter.
    expect(checkPodSecurity(deployment, 'restricted', pssVersion).map((f) => f.control)).toEqual(['capabilities_restricted']);
    expect(checkPodSecurity(deployment, 'baseline', pssVersion).map((f) => f.control)).toEqual(['capabilities_baseline']);
  });
});

describe('checks the schema cannot express', () => {
  it.each(['default', 'kube-system'])('refuses to render into the %s namespace', async (namespace) => {
    const result = await helmTemplate(chartDir, {}, { namespace, kubeVersion: helmKubeVersion });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`refusing to install into the "${namespace}" namespace`);
  });

  it('refuses a termination grace period shorter than shutdown delay + drain timeout', async () => {
    const result = await helmTemplate(chartDir, { terminationGracePeriodSeconds: 15 }, { kubeVersion: helmKubeVersion });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('terminationGracePeriodSeconds (15 s) must exceed');
  });

  it('refuses autoscaling with minReplicas above maxReplicas', async () => {
    const values = { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } };
    const result = await helmTemplate(chartDir, values, { kubeVersion: helmKubeVersion });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('minReplicas must not exceed');
  });
});

// install --dry-run=client needs no cluster; it has no --kube-version flag (helm 4 assumes its own 1.35).
describe('NOTES.txt (helm install --dry-run=client, offline)', () => {
  // As the chart README's install command: the image CI published (no default: CI names it at run time).
  const install = (args: string[], image = ['--set', `image.repository=${DEPLOYED_IMAGE}`]) =>
    runHelm(['install', 'my-svc', chartDir, '--namespace', 'my-svc', '--dry-run=client', ...image, ...args]);

  it('refuses to install without the image CI published, in one line that says where it is', async () => {
    const result = await install([], []);
    expect(result.exitCode).toBe(1);
    // One line naming the template and the fix (the line number moves with the template).
    expect(result.stderr.trim()).toMatch(
      /^Error: INSTALLATION FAILED: execution error at \(my-svc\/templates\/deployment\.yaml:\d+:\d+\): image\.repository is not set: set it to the image CI published \(its publish job prints the name and the digest\)$/,
    );
  });

  it('says where it is installed and how to check it', async () => {
    const result = await install([]);
    expect(result.exitCode, result.stderr).toBe(0);
    const notes = result.stdout.slice(result.stdout.indexOf('NOTES:'));
    expect(notes).toContain('my-svc is installed in namespace my-svc');
    expect(notes).toContain('kubectl --namespace my-svc rollout status deployment/my-svc');
    expect(notes).not.toContain('WARNING');
  });

  it('warns when RBAC is on without egress to the API server, and when the escape hatch is used', async () => {
    const result = await install([
      '--set', 'rbac.create=true',
      '--set', 'rbac.rules[0].apiGroups[0]=',
      '--set', 'rbac.rules[0].resources[0]=configmaps',
      '--set', 'rbac.rules[0].verbs[0]=get',
      '--set', 'securityException.allowWeakerSecurity=true',
      '--set', 'securityException.reason=needs a writable root fs until PLAT-1',
      '--set', 'securityContext.readOnlyRootFilesystem=false',
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('WARNING: rbac.create is on but networkPolicy.extraEgress is empty');
    expect(result.stdout).toContain('WARNING: securityException.allowWeakerSecurity is on (needs a writable root fs until PLAT-1)');
  });
});
