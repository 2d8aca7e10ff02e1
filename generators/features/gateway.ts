import type { Answers } from '../../core/options.js';
import { gatewayDataPlanes } from '../../core/versions.js';

/** Fills {gatewayName} and {gatewayNamespace} in a fact of data/gateway-data-planes.json. */
function forGateway(text: string): string {
  const { name, namespace } = gatewayDataPlanes.gateway;
  return text.replaceAll('{gatewayName}', name).replaceAll('{gatewayNamespace}', namespace);
}

/**
 * How the chart is exposed and who may send its pods traffic: the values.yaml of a new service names the
 * answered data plane's proxies explicitly (from the data file), so the NetworkPolicy admits them and nothing else.
 */
export function exposureContext(answers: Answers) {
  const plane = gatewayDataPlanes.dataPlanes[answers.dataPlane];
  const exposed = answers.exposure !== 'none';
  return {
    exposure: { gateway: answers.exposure === 'gateway', ingress: answers.exposure === 'ingress', none: !exposed },
    gateway: gatewayDataPlanes.gateway,
    dataPlane: {
      implementation: exposed ? answers.dataPlane : 'none',
      label: plane.label,
      retired: plane.retired === true,
      cilium: exposed && plane.entity !== undefined,
      namespace: exposed && plane.namespace !== undefined ? forGateway(plane.namespace) : undefined,
      podLabels: exposed && plane.podLabels ? Object.fromEntries(Object.entries(plane.podLabels).map(([k, v]) => [k, forGateway(v)])) : undefined,
      placeholder: answers.dataPlane === 'infrastructure-labels',
    },
    dataPlaneImplementations: [...Object.keys(gatewayDataPlanes.dataPlanes), 'none'],
    hostUsers: answers.userNamespaces !== 'on',
  };
}
