import { describe, expect, it } from 'vitest';
import { kubesecMaxScore, kubesecScore } from '../lib/policy/kubesec-score.js';

// The kubesec-style scorer: kubesec's rules (+1 each for read-only root fs, non-root, uid and gid > 10000,
// drop any / drop ALL, cpu and memory requests and limits, seccomp, automount off; +3 service account and
// AppArmor; negatives for privileges and host access), evaluated per container with pod-level fallbacks.

function hardened(): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      template: {
        metadata: {},
        spec: {
          serviceAccountName: 'web',
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
            appArmorProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'web',
              image: 'web',
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
            },
          ],
        },
      },
    },
  };
}

describe('kubesecScore', () => {
  it('a hardened Deployment scores the maximum, 18', () => {
    expect(kubesecMaxScore).toBe(18);
    const score = kubesecScore(hardened())!;
    expect(score).toMatchObject({ score: 18, maxScore: 18, advise: [], critical: [] });
    expect(score.passed.map((r) => r.id)).toContain('ApparmorAny');
  });

  it('a bare Deployment scores 0 and is advised every positive rule', () => {
    const bare = { kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'web', image: 'web' }] } } } };
    const score = kubesecScore(bare)!;
    expect(score.score).toBe(0);
    expect(score.advise).toHaveLength(14);
  });

  it.each([
    ['Privileged', -30, (d: any) => (d.spec.template.spec.containers[0].securityContext.privileged = true)],
    ['CapSysAdmin', -30, (d: any) => (d.spec.template.spec.containers[0].securityContext.capabilities.add = ['SYS_ADMIN'])],
    ['HostNetwork', -9, (d: any) => (d.spec.template.spec.hostNetwork = true)],
    ['HostPID', -9, (d: any) => (d.spec.template.spec.hostPID = true)],
    ['HostIPC', -9, (d: any) => (d.spec.template.spec.hostIPC = true)],
    ['DockerSock', -9, (d: any) => (d.spec.template.spec.volumes = [{ name: 's', hostPath: { path: '/var/run/docker.sock' } }])],
    ['AllowPrivilegeEscalation', -7, (d: any) => (d.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true)],
    ['HostAliases', -3, (d: any) => (d.spec.template.spec.hostAliases = [{ ip: '10.0.0.1', hostnames: ['db'] }])],
  ])('%s costs %i points', (id, points, change) => {
    const d = hardened();
    change(d);
    const score = kubesecScore(d)!;
    expect(score.critical.map((r) => r.id)).toEqual([id]);
    expect(score.score).toBe(18 + points);
  });

  it('Unconfined seccomp or AppArmor loses the positive and costs the negative', () => {
    const d = hardened();
    d.spec.template.spec.securityContext.seccompProfile.type = 'Unconfined';
    d.spec.template.spec.securityContext.appArmorProfile.type = 'Unconfined';
    const score = kubesecScore(d)!;
    expect(score.critical.map((r) => r.id).sort()).toEqual(['ApparmorUnconfined', 'SeccompUnconfined']);
    expect(score.score).toBe(18 - 1 - 3 - 1 - 3);
  });

  it('positive container rules need every container, so a careless sidecar costs points', () => {
    const d = hardened();
    d.spec.template.spec.containers.push({ name: 'sidecar', image: 'proxy' });
    const advised = kubesecScore(d)!.advise.map((r) => r.id).sort();
    expect(advised).toEqual(['CapDropAll', 'CapDropAny', 'LimitsCPU', 'LimitsMemory', 'ReadOnlyRootFilesystem', 'RequestsCPU', 'RequestsMemory']);
  });

  it('counts the legacy annotations like kubesec, and the default service account as none', () => {
    const d = hardened();
    delete d.spec.template.spec.securityContext.appArmorProfile;
    d.spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/web': 'runtime/default' };
    d.spec.template.spec.serviceAccountName = 'default';
    const score = kubesecScore(d)!;
    expect(score.passed.map((r) => r.id)).toContain('ApparmorAny');
    expect(score.advise.map((r) => r.id)).toEqual(['ServiceAccountName']);
  });

  it('reads CronJob templates and ignores kinds without pods', () => {
    const cron = { kind: 'CronJob', spec: { jobTemplate: { spec: { template: hardened().spec.template } } } };
    expect(kubesecScore(cron)!.score).toBe(18);
    expect(kubesecScore({ kind: 'Service', spec: {} })).toBeUndefined();
  });
});
