import type { Answers, DataPlane } from '../../core/options.js';
import { type DataPlaneFacts, gatewayDataPlanes, userNamespaceFacts } from '../../core/versions.js';

/** Fills {gatewayName} and {gatewayNamespace} in a fact of data/gateway-data-planes.json. */
function forGateway(text: string): string {
  const { name, namespace } = gatewayDataPlanes.gateway;
  return text.replaceAll('{gatewayName}', name).replaceAll('{gatewayNamespace}', namespace);
}

/** One data plane's proxies in words, for the chart README: its namespace and pod labels, or Cilium's identity. */
export function describePeer(facts: DataPlaneFacts): string {
  if (facts.entity) return `Cilium's reserved \`${facts.entity}\` identity (a CiliumNetworkPolicy; no proxy pod)`;
  const labels = Object.entries(facts.podLabels ?? {}).map(([k, v]) => `\`${k}=${forGateway(v)}\``);
  return `pods ${labels.length ? `labelled ${labels.join(', ')}` : 'of'} in namespace \`${forGateway(facts.namespace ?? '')}\``;
}

/** `--set` flags that admit a data plane's proxies (helm's key syntax: dots inside a label key escaped). */
function helmSetFlags(implementation: DataPlane): string {
  const facts = gatewayDataPlanes.dataPlanes[implementation];
  const key = (k: string) => k.replaceAll('.', '\\.');
  const flags = [`--set networkPolicy.dataPlane.implementation=${implementation}`];
  if (facts.namespace) flags.push(`--set 'networkPolicy.dataPlane.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=${forGateway(facts.namespace)}'`);
  for (const [k, v] of Object.entries(facts.podLabels ?? {})) flags.push(`--set 'networkPolicy.dataPlane.podSelector.matchLabels.${key(k)}=${forGateway(v)}'`);
  return flags.join(' \\\n  ');
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
      podLabels: exposed && plane.podLabels && Object.keys(plane.podLabels).length > 0 ? Object.fromEntries(Object.entries(plane.podLabels).map(([k, v]) => [k, forGateway(v)])) : undefined,
      placeholder: answers.dataPlane === 'infrastructure-labels',
    },
    dataPlaneImplementations: [...Object.keys(gatewayDataPlanes.dataPlanes), 'none'],
    dataPlaneTable: Object.entries(gatewayDataPlanes.dataPlanes)
      .filter(([, facts]) => !facts.retired)
      .map(([key, facts]) => ({ key, text: describePeer(facts) })),
    // A service answered --exposure none admits no data plane: its README's commands that expose it name one.
    dataPlaneFlags: exposed ? '' : helmSetFlags(answers.dataPlane),
    hostUsers: answers.userNamespaces !== 'on',
    userNamespaceFacts,
  };
}
