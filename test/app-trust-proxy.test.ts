/**
 * Client identity behind the Ingress: the chart sets TRUST_PROXY from `config.trustProxy` (the addresses the
 * proxy connects from), trusting the private ranges when the Ingress is on and the list is left empty; the schema refuses values
 * the service would refuse at start-up. The service's side is tested in its own suite
 * (test/client-address.test.ts) and through a real nginx in app-service.e2e.test.ts.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deploymentEnv } from './support/chart-env.js';
import { valuesMatrix } from './support/chart-values.js';
import { helmLint, writeService } from './support/kubernetes.js';

const ingress = (valuesMatrix['ingress+tls'] as { ingress: Record<string, unknown> }).ingress;
let chart: string;
beforeAll(async () => {
  chart = join((await writeService()).dir, 'chart');
});

describe('chart: TRUST_PROXY', () => {
  it.each([
    ['no Ingress, no value: nobody is trusted', {}, undefined],
    ['the Ingress on, no value: the private ranges its controller’s pods connect from', { ingress }, '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7'],
    ['the controller pods’ CIDR', { ingress, config: { trustProxy: ['10.244.0.0/16', 'fd00::/8'] } }, '10.244.0.0/16,fd00::/8'],
    ['a load balancer’s subnets without the Ingress', { config: { trustProxy: ['192.0.2.0/24'] } }, '192.0.2.0/24'],
  ])('%s', async (_case, values, expected) => {
    expect((await deploymentEnv(chart, values)).TRUST_PROXY).toBe(expected);
  });

  it.each([['1'], [['1']], [['true']], [['*']], [['10.0.0.0/8; rm -rf /']], [['any']]])('the schema refuses trustProxy %j', async (value) => {
    const result = await helmLint(chart, { config: { trustProxy: value } });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/trustProxy/);
  });

  it('the schema accepts what the service accepts', async () => {
    for (const value of [[], ['127.0.0.1'], ['loopback', 'uniquelocal'], ['10.0.0.0/8', '192.168.0.0/16'], ['2001:db8::/32']]) {
      const result = await helmLint(chart, { config: { trustProxy: value } });
      expect(result.exitCode, `${value}: ${result.stdout}`).toBe(0);
    }
  });
});
