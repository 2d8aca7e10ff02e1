import { describe, expect, it } from 'vitest';
import { minorsInSupportOn, versions } from '../core/versions.js';
import { checkableMinors, supportedKubernetesMinors } from '../lib/check/kubernetes-api.js';

// Which Kubernetes minors the chart accepts and `check --kube-version` audits follow the release and end-of-life
// dates of data/versions.json, judged on a day, and the Pod Security fixtures vendored: nothing is hardcoded.

const minors = versions.kubernetes.minors;
const inSupport = (day: string) => minorsInSupportOn(minors, day).map((m) => m.minor);
/** 1.38 as the data will list it from its release day, 2026-12-16 (its end of life here is a stand-in). */
const with138 = [...minors, { minor: '1.38', released: '2026-12-16', endOfLife: '2028-02-28', source: 'test' }];

describe('Kubernetes minors in support, as the end-of-life table moves', () => {
  it('on the day the data was checked: the minors check audits are exactly those, up to the vendored fixtures', () => {
    expect(supportedKubernetesMinors).toEqual(checkableMinors(inSupport(versions.kubernetes.checked)));
    expect(supportedKubernetesMinors).toEqual(['1.35', '1.36', '1.37']);
  });

  it('a minor leaves on its end-of-life date (1.35: still supported in maintenance from 2026-12-28, gone after 2027-02-28)', () => {
    expect(inSupport('2026-12-28')).toContain('1.35');
    expect(inSupport('2027-02-27')).toContain('1.35');
    expect(inSupport('2027-02-28')).not.toContain('1.35');
  });

  it('1.38 joins on its release day, but check waits for its Pod Security fixtures, which upstream has not published', () => {
    expect(minorsInSupportOn(with138, '2026-12-15').map((m) => m.minor)).not.toContain('1.38');
    const onRelease = minorsInSupportOn(with138, '2026-12-16').map((m) => m.minor);
    expect(onRelease).toContain('1.38');
    expect(checkableMinors(onRelease)).toEqual(['1.35', '1.36', '1.37']);
    expect(checkableMinors(onRelease, '1.38')).toEqual(['1.35', '1.36', '1.37', '1.38']);
  });
});
