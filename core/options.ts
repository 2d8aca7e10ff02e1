import { basename, resolve } from 'node:path';
import { gatewayDataPlanes, versions } from './versions.js';

/**
 * THE options model. Every answer the generator takes is declared here once; prompts, CLI flags, `--help`,
 * the answers recorded in the manifest and the README's option table are all derived from this list.
 */
export interface OptionContext {
  /** The target directory as typed by the user. */
  targetDir: string;
}

interface BaseOption<T> {
  /** Key in the answers object and in templates. */
  key: string;
  /** Flag name: `--<flag>`. */
  flag: string;
  /** Short text for prompts and --help. */
  description: string;
  /** Which emitted areas depend on it (docs, and what an upgrade re-renders). */
  affects: string[];
  /** Generator version that introduced the option: `upgrade` asks only for options newer than a service. */
  since: string;
  /** Default, possibly derived from the answers given before it in this list. */
  default: (ctx: OptionContext, earlier: Partial<Answers>) => T;
  /**
   * Returns an error message (one line, names the fix) or undefined when the value is valid. `earlier` holds the
   * answers before this one, for the few options whose valid values depend on them.
   */
  validate?: (value: T, earlier: Partial<Answers>) => string | undefined;
  /**
   * What `upgrade` records for a service made before the option existed, when it differs from a new service's
   * default: the behaviour the service already had, so an upgrade never changes it unasked.
   */
  upgradeDefault?: T;
}

export interface StringOption extends BaseOption<string> {
  type: 'string';
  /** Free text that can hold any character: templates must escape it for the file format. */
  freeText?: boolean;
}
export interface ChoiceOption extends BaseOption<string> {
  type: 'choice';
  choices: { value: string; label: string }[];
}
export interface IntegerOption extends BaseOption<number> {
  type: 'integer';
  choices?: { value: number; label: string }[];
}
export type OptionSpec = StringOption | ChoiceOption | IntegerOption;

export interface Answers {
  name: string;
  description: string;
  framework: 'fastify' | 'express';
  port: number;
  database: 'none' | 'postgres' | 'mysql';
  rateLimitStore: 'memory' | 'redis';
  nodeVersion: number;
  base: 'distroless' | 'dhi';
  platforms: string;
  image: string;
  owner: string;
  ci: 'github' | 'gitlab';
  system: string;
  lifecycle: 'experimental' | 'production' | 'deprecated';
  exposure: 'gateway' | 'ingress' | 'none';
  dataPlane: DataPlane;
  userNamespaces: 'off' | 'on';
}

/** Who sends the service its traffic (data/gateway-data-planes.json): the NetworkPolicy's only source for its port. */
export type DataPlane = keyof typeof gatewayDataPlanes.dataPlanes;
/** The empty `image` answer: no image named, the CI repository's own registry, named at run time (core/image.ts). */
export const REPOSITORY_REGISTRY = '';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// OCI distribution reference without tag/digest: [registry[:port]/]path, lowercase path components.
const IMAGE_NAME =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
// Team references as catalogs and CODEOWNERS spell them: `platform`, `group:default/platform`, `@org/team`.
const OWNER = /^@?[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/;
// Backstage entity names: letters, digits and [-_.], at most 63, starting and ending with a letter or digit.
const ENTITY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/** Turns a directory name into a valid default service name (`My_Service` → `my-service`). */
export function serviceNameFromDir(dir: string): string {
  const slug = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return slug || 'service';
}

/** Last path segment of a team reference, lowercased: `group:default/Platform` → `platform`. */
export function slug(ref: string): string {
  return (ref.split(/[/:]/).pop() ?? ref).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'platform';
}

const supportedNodeLines = versions.node.lines;
/** Node lines with a pinned Docker Hardened Image (data/versions.json says why the others have none). */
const dhiLines = supportedNodeLines.filter((l) => l.dhi).map((l) => l.major);

/** Image platforms, comma-separated as Docker writes them; the pipelines build each on its own runner. */
export const DEFAULT_PLATFORMS = 'linux/amd64,linux/arm64';
const PLATFORM_CHOICES = [DEFAULT_PLATFORMS, 'linux/amd64', 'linux/arm64'];

export const options: readonly OptionSpec[] = [
  {
    key: 'name',
    flag: 'name',
    type: 'string',
    description: 'Service name (DNS-1123 label: lowercase letters, digits and -, at most 63 characters)',
    affects: ['app', 'docker', 'chart', 'namespace', 'ci', 'docs', 'verify'],
    since: '0.1.0',
    default: (ctx) => serviceNameFromDir(ctx.targetDir),
    validate: (v) => {
      if (v.length === 0) return 'service name is empty: give a DNS-1123 label such as "orders-api"';
      if (v.length > 63) return `service name "${v}" is ${v.length} characters: use at most 63`;
      if (!DNS_LABEL.test(v))
        return `service name "${v}" is not a DNS-1123 label: use lowercase letters, digits and "-", starting and ending with a letter or digit`;
      return undefined;
    },
  },
  {
    key: 'description',
    flag: 'description',
    type: 'string',
    freeText: true,
    description: 'One-line description of the service',
    affects: ['app', 'docker', 'chart', 'docs'],
    since: '0.1.0',
    default: () => 'A hardened Node.js service',
    validate: (v) => (v.length > 500 ? 'description is longer than 500 characters: shorten it' : undefined),
  },
  {
    key: 'framework',
    flag: 'framework',
    type: 'choice',
    description: 'HTTP framework',
    choices: [
      { value: 'fastify', label: 'Fastify (fast, schema-first; default)' },
      { value: 'express', label: 'Express (most widely known)' },
    ],
    affects: ['app'],
    since: '0.1.0',
    default: () => 'fastify',
  },
  {
    key: 'port',
    flag: 'port',
    type: 'integer',
    description: 'HTTP port the service listens on (1024-65535: the container runs without root)',
    affects: ['app', 'docker', 'chart'],
    since: '0.1.0',
    default: () => 8080,
    validate: (v) =>
      Number.isInteger(v) && v >= 1024 && v <= 65535
        ? undefined
        : `port ${v} is out of range: use a whole number from 1024 to 65535 (ports below 1024 need root)`,
  },
  {
    key: 'database',
    flag: 'database',
    type: 'choice',
    description: 'Database the service uses: a pooled client over verified TLS, migrations, egress to exactly its port',
    choices: [
      { value: 'none', label: 'None (default)' },
      { value: 'postgres', label: 'PostgreSQL (pg)' },
      { value: 'mysql', label: 'MySQL or MariaDB (mysql2)' },
    ],
    affects: ['app', 'docker', 'chart', 'ci', 'docs'],
    since: '0.2.0',
    default: () => 'none',
  },
  {
    key: 'rateLimitStore',
    flag: 'rate-limit-store',
    type: 'choice',
    description: "Where the rate limiter counts: each pod's memory, or Redis shared by every replica",
    choices: [
      { value: 'memory', label: 'Memory (each pod counts alone; default)' },
      { value: 'redis', label: 'Redis (one count across replicas and restarts; ioredis)' },
    ],
    affects: ['app', 'chart', 'ci', 'docs'],
    since: '0.2.0',
    default: () => 'memory',
  },
  {
    key: 'nodeVersion',
    flag: 'node-version',
    type: 'integer',
    description: 'Node.js major version of the image (supported LTS lines only)',
    choices: supportedNodeLines.map((l) => ({
      value: l.major,
      label: `Node ${l.major} (${l.status}, end of life ${l.endOfLife})`,
    })),
    affects: ['app', 'docker', 'ci', 'docs'],
    since: '0.1.0',
    default: () => versions.node.defaultMajor,
  },
  {
    key: 'base',
    flag: 'base',
    type: 'choice',
    description: 'Base images of the Dockerfile: Google distroless, or Docker Hardened Images (dhi.io, needs a Docker ID login in CI)',
    choices: [
      { value: 'distroless', label: 'Google distroless (no login; default)' },
      { value: 'dhi', label: 'Docker Hardened Images (signed SBOM, VEX and SLSA provenance; CI logs in to dhi.io)' },
    ],
    affects: ['docker', 'chart', 'ci', 'docs'],
    since: '0.2.0',
    default: () => 'distroless',
    validate: (v, earlier) =>
      v === 'dhi' && earlier.nodeVersion !== undefined && !dhiLines.includes(earlier.nodeVersion)
        ? `--base dhi has no pinned Docker Hardened Image for Node ${earlier.nodeVersion}: use --node-version ${dhiLines.join(' or ')}, or --base distroless`
        : undefined,
  },
  {
    key: 'platforms',
    flag: 'platforms',
    type: 'choice',
    description: 'Platforms of the image: each is built on a native CI runner, and CI publishes one index of them',
    choices: PLATFORM_CHOICES.map((value) => ({
      value,
      label: value === DEFAULT_PLATFORMS ? `${value} (each on its own native runner; default)` : value,
    })),
    affects: ['ci', 'docs'],
    since: '0.2.0',
    default: () => DEFAULT_PLATFORMS,
  },
  {
    key: 'owner',
    flag: 'owner',
    type: 'string',
    description: 'Owning team (as your catalog names it, e.g. platform or group:default/platform)',
    affects: ['docs', 'ci', 'verify'],
    since: '0.1.0',
    default: () => 'platform',
    validate: (v) =>
      OWNER.test(v)
        ? undefined
        : `owner "${v}" is not a team reference: use letters, digits and . _ : / - (e.g. platform or @acme/platform)`,
  },
  {
    key: 'ci',
    flag: 'ci',
    type: 'choice',
    description: 'CI system for the build, test and security-scanning pipeline',
    choices: [
      { value: 'github', label: 'GitHub Actions (default)' },
      { value: 'gitlab', label: 'GitLab CI' },
    ],
    affects: ['ci', 'docs', 'verify'],
    since: '0.1.0',
    default: () => 'github',
  },
  {
    key: 'image',
    flag: 'image',
    type: 'string',
    description: "Container image name without tag, e.g. ghcr.io/acme/orders-api; empty: the CI repository's own registry, named at run time",
    affects: ['docker', 'chart', 'namespace', 'ci', 'docs', 'verify'],
    since: '0.1.0',
    // Empty: the pipeline publishes where its own token can push, the name derived at run time (core/image.ts).
    default: () => REPOSITORY_REGISTRY,
    validate: (v) =>
      v === REPOSITORY_REGISTRY || (IMAGE_NAME.test(v) && v.length <= 255)
        ? undefined
        : `image "${v}" is not a valid image name: use [registry/]path in lowercase without a tag, e.g. ghcr.io/acme/orders-api`,
  },
  {
    key: 'system',
    flag: 'system',
    type: 'string',
    description: 'Backstage system the service belongs to (catalog-info.yaml)',
    affects: ['catalog'],
    since: '0.1.0',
    default: (_ctx, earlier) => slug(earlier.owner ?? 'platform'),
    validate: (v) =>
      ENTITY_NAME.test(v)
        ? undefined
        : `system "${v}" is not a Backstage entity name: use letters, digits, - _ and . (at most 63), e.g. payments`,
  },
  {
    key: 'lifecycle',
    flag: 'lifecycle',
    type: 'choice',
    description: 'Backstage lifecycle of the service (catalog-info.yaml)',
    choices: [
      { value: 'experimental', label: 'experimental (new, not yet relied on; default)' },
      { value: 'production', label: 'production (relied on, supported)' },
      { value: 'deprecated', label: 'deprecated (being retired)' },
    ],
    affects: ['catalog'],
    since: '0.1.0',
    default: () => 'experimental',
  },
  {
    key: 'exposure',
    flag: 'exposure',
    type: 'choice',
    description: 'How traffic reaches the service: an HTTPRoute to the platform\'s Gateway, an Ingress, or nothing (in-cluster only)',
    choices: [
      { value: 'gateway', label: 'Gateway API HTTPRoute (default)' },
      { value: 'ingress', label: 'Ingress (TLS required)' },
      { value: 'none', label: 'None (reached in the cluster only, through extraIngress)' },
    ],
    affects: ['chart', 'docs'],
    since: '0.2.0',
    default: () => 'gateway',
    // A service made before this answer had its Ingress template (off until the team turned it on) and no route.
    upgradeDefault: 'ingress',
  },
  {
    key: 'dataPlane',
    flag: 'data-plane',
    type: 'choice',
    description: 'Which proxies send the traffic (the only source the NetworkPolicy admits to the service port)',
    choices: Object.entries(gatewayDataPlanes.dataPlanes).map(([value, plane]) => ({ value, label: plane.label })),
    affects: ['chart', 'docs'],
    since: '0.2.0',
    default: () => 'infrastructure-labels',
    // What the chart admitted before this answer: kept (and reported by check), never silently replaced.
    upgradeDefault: 'ingress-nginx',
  },
  {
    key: 'userNamespaces',
    flag: 'user-namespaces',
    type: 'choice',
    description: 'Run the pod in its own user namespace (hostUsers: false; needs kernel >= 6.3 and a runtime that supports it)',
    choices: [
      { value: 'off', label: 'Off (default: runs on every node)' },
      { value: 'on', label: 'On (container root is not root on the node; see the chart README for node requirements)' },
    ],
    affects: ['chart', 'docs'],
    since: '0.2.0',
    default: () => 'off',
  },
];

/** Parses a raw value for an option, or returns the one-line reason it is not acceptable. */
export function parseOptionValue(
  option: OptionSpec,
  raw: string | number,
  earlier: Partial<Answers> = {},
): { value: string | number } | { error: string } {
  let value: string | number = raw;
  if (option.type === 'integer') {
    const text = String(raw).trim();
    if (!/^\d+$/.test(text)) return { error: `--${option.flag} "${raw}" is not a whole number` };
    value = Number(text);
  }
  const choices = option.type === 'string' ? undefined : option.choices;
  if (choices && !choices.some((c) => c.value === value)) {
    return { error: `--${option.flag} "${raw}" is not one of: ${choices.map((c) => c.value).join(', ')}` };
  }
  // Choices are checked above; validate() adds what a choice list cannot say.
  const problem = (option.validate as ((v: string | number, e: Partial<Answers>) => string | undefined) | undefined)?.(value, earlier);
  return problem ? { error: problem } : { value };
}
