import { readFile } from 'node:fs/promises';
import AjvModule from 'ajv';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';
import { parseWorkflow } from './support/ci-workflows.js';
import { type KubeObject, parseManifests } from './support/kubernetes.js';

/**
 * verify/: the policies that make a cluster verify what CI signed. Each validates against its verifier's CRD
 * schema (read upstream into data/verifier-schemas/), and carries exactly the identity the emitted pipeline signs
 * with: the issuer and the certificate subject Fulcio writes for the signing job (data/admission-facts.json).
 * The docs' cosign and gh commands carry the same identity, and the pipeline signs in the format the verifiers accept.
 */
const Ajv = AjvModule as unknown as typeof AjvModule.default;
const json = async (path: string) => JSON.parse(await readFile(new URL(`../data/${path}`, import.meta.url), 'utf8'));
const facts = await json('admission-facts.json');

/** The CRD's schema as the API server applies it: unknown fields are refused (no pruning surprise). */
function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== 'object') return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, strict(s)])) : strict(v)]));
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

async function validatorFor(file: string) {
  const crd = await json(`verifier-schemas/${file}`);
  const schema = strict(crd.openAPIV3Schema);
  // apiVersion, kind and metadata are the API server's; the CRD schema leaves them open.
  schema.properties = { ...schema.properties, apiVersion: { const: `${crd.group}/${crd.version}` }, kind: { const: crd.kind }, metadata: { type: 'object' } };
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  return (object: unknown) => (validate(object) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
}

const VARIANTS = {
  'github, GHCR (repository from the image)': { ci: 'github', image: 'ghcr.io/acme/orders-api' },
  'github, another registry (repository assumed)': { ci: 'github', image: 'registry.acme.example/team/orders-api', owner: 'payments' },
  'gitlab, GitLab.com registry': { ci: 'gitlab', image: 'registry.gitlab.com/acme/orders-api' },
} as const;
type Variant = keyof typeof VARIANTS;
const services = {} as Record<Variant, Map<string, string>>;
let validatePolicyController: (o: unknown) => string[];
let validateKyverno: (o: unknown) => string[];

beforeAll(async () => {
  for (const [variant, given] of Object.entries(VARIANTS) as [Variant, Record<string, string>][]) {
    services[variant] = new Map([...(await renderService(await answersFor('orders-api', given)))].map(([p, b]) => [p, b.toString('utf8')]));
  }
  validatePolicyController = await validatorFor('clusterimagepolicy.policy.sigstore.dev.json');
  validateKyverno = await validatorFor('imagevalidatingpolicy.policies.kyverno.io.json');
});

const file = (v: Variant, path: string) => services[v].get(path) ?? '';
const one = (v: Variant, path: string): KubeObject => {
  const objects = parseManifests(file(v, path));
  expect(objects, path).toHaveLength(1);
  return objects[0]!;
};
const policyController = (v: Variant) => one(v, 'verify/policy-controller.yaml');
const kyverno = (v: Variant) => one(v, 'verify/kyverno.yaml');
const identities = (v: Variant) => [
  policyController(v).spec.authorities[0].keyless.identities[0],
  kyverno(v).spec.attestors[0].cosign.keyless.identities[0],
];

/**
 * The certificate subject Fulcio writes for a signing run of the emitted pipeline at `ref`, and the issuer:
 * from the pipeline file as emitted (the signing job's file, triggers), not from the generator's own function.
 */
function signingRun(v: Variant, repository: string, ref: string) {
  if (VARIANTS[v].ci === 'github') {
    const workflow = parseWorkflow(file(v, '.github/workflows/container.yml'));
    // The merge job signs the index of the platform images.
    expect(JSON.stringify(workflow.jobs.merge!.steps)).toContain('cosign sign');
    expect(workflow.jobs.merge!.permissions).toMatchObject({ 'id-token': 'write' });
    // job_workflow_ref: <owner>/<repo>/.github/workflows/container.yml@<ref>
    return { issuer: facts.signing.identity.github.issuer, subject: `https://github.com/${repository}/.github/workflows/container.yml@${ref}` };
  }
  const ci = parse(file(v, '.gitlab-ci.yml'));
  expect(ci['image-sign'].id_tokens.SIGSTORE_ID_TOKEN.aud).toBe('sigstore');
  // ci_config_ref_uri: gitlab.com/<group>/<project>//.gitlab-ci.yml@<ref>
  return { issuer: facts.signing.identity.gitlab.issuer, subject: `https://gitlab.com/${repository}//.gitlab-ci.yml@${ref}` };
}

const expectedRepository: Record<Variant, string> = {
  'github, GHCR (repository from the image)': 'acme/orders-api',
  'github, another registry (repository assumed)': 'payments/orders-api',
  'gitlab, GitLab.com registry': 'acme/orders-api',
};

describe.each(Object.keys(VARIANTS) as Variant[])('verify/ (%s)', (v) => {
  it('the ClusterImagePolicy validates against policy-controller v0.15.1 CRD schema, the ImageValidatingPolicy against Kyverno 1.18.2 CRD schema', () => {
    expect(validatePolicyController(policyController(v))).toEqual([]);
    expect(validateKyverno(kyverno(v))).toEqual([]);
    expect(policyController(v).apiVersion).toBe(facts.signing.verifiers.policyController.apiVersion);
    expect(kyverno(v).apiVersion).toBe(facts.signing.verifiers.kyverno.apiVersion);
  });

  it('a schema violation is caught (the validators are not vacuous)', () => {
    const broken = structuredClone(policyController(v));
    broken.spec.authorities[0].keyles = broken.spec.authorities[0].keyless;
    expect(validatePolicyController(broken).join()).toContain('must NOT have additional properties {"additionalProperty":"keyles"}');
    const noAttestors = structuredClone(kyverno(v));
    delete noAttestors.spec.attestors;
    expect(validateKyverno(noAttestors).join()).toContain('attestors');
  });

  it("both carry the pipeline's identity: its issuer, and a subject that matches its signing runs on main and v* tags only", () => {
    const repo = expectedRepository[v];
    for (const identity of identities(v)) {
      expect(Object.keys(identity).sort()).toEqual(['issuer', 'subjectRegExp']);
      const subject = new RegExp(identity.subjectRegExp);
      for (const ref of ['refs/heads/main', 'refs/tags/v1.2.3']) {
        const run = signingRun(v, repo, ref);
        expect(identity.issuer).toBe(run.issuer);
        expect(subject.test(run.subject), run.subject).toBe(true);
      }
      for (const other of [
        signingRun(v, repo, 'refs/heads/feature').subject,
        signingRun(v, repo, 'refs/pull/7/merge').subject,
        signingRun(v, repo, 'refs/tags/1.2.3').subject,
        signingRun(v, `${repo}-evil`, 'refs/heads/main').subject,
        signingRun(v, `evil/${repo.split('/')[1]}`, 'refs/heads/main').subject,
        signingRun(v, repo, 'refs/heads/main').subject.replace(/container\.yml|\.gitlab-ci\.yml/, 'other.yml'),
        signingRun(v, repo, 'refs/heads/main').subject.replace('https://', 'https://evil.example/'),
      ]) {
        expect(subject.test(other), other).toBe(false);
      }
    }
  });

  it("both admit only the service's image and deny by default", () => {
    const image = VARIANTS[v].image;
    expect(policyController(v).spec).toMatchObject({ mode: 'enforce', images: [{ glob: `${image}**` }] });
    expect(policyController(v).spec.authorities[0]).toMatchObject({ signatureFormat: 'legacy', keyless: { url: 'https://fulcio.sigstore.dev' } });
    expect(kyverno(v).spec).toMatchObject({ validationActions: ['Deny'], failurePolicy: 'Fail', matchImageReferences: [{ glob: `${image}*` }] });
    expect(kyverno(v).spec.matchConstraints.namespaceSelector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': 'orders-api' } });
    // Every image list Kyverno extracts (pkg/cel/compiler/images.go), all verified against the pipeline's attestor.
    expect(kyverno(v).spec.validations[0].expression).toMatch(/^\(images\.containers \+ images\.initContainers \+ images\.ephemeralContainers\)\s*\.map\(image, verifyImageSignatures\(image, \[attestors\.pipeline\]\)\)\.all\(e, e > 0\)$/);
  });

  it("policy-controller's glob (its own translation to a regular expression) matches the image by digest, not a sibling", () => {
    const { glob } = facts.signing.verifiers.policyController;
    const pattern: string = policyController(v).spec.images[0].glob;
    expect(new RegExp(glob.valid).test(pattern)).toBe(true);
    // Compile: "." → "\.", "**" → a placeholder → ".*", "*" → "[^/]*", anchored.
    const source = pattern.replaceAll('.', '\\.').replaceAll('**', '#').replaceAll('*', '[^/]*').replaceAll('#', '.*');
    expect(glob.translation).toEqual([['.', '\\.'], ['**', '.*'], ['*', '[^/]*']]);
    const re = new RegExp(`^${source}$`);
    const image = VARIANTS[v].image;
    expect(re.test(`${image}@sha256:${'ab'.repeat(32)}`)).toBe(true);
    expect(re.test(`${image.replace(/\/[^/]+$/, '/other')}@sha256:${'ab'.repeat(32)}`)).toBe(false);
  });

  it('the pipeline signs in the format both verifiers accept (data/admission-facts.json)', () => {
    const { policyController: pc, kyverno: ky } = facts.signing.verifiers;
    expect([pc.acceptsLegacy, ky.acceptsLegacy, pc.acceptsCosignV3Bundle]).toEqual([true, true, false]);
    const pipeline = VARIANTS[v].ci === 'github' ? file(v, '.github/workflows/container.yml') : file(v, '.gitlab-ci.yml');
    const signs = pipeline.split('\n').filter((l) => /cosign sign /.test(l));
    expect(signs).toHaveLength(1);
    for (const flag of facts.signing.cosign.legacyFlags) expect(signs[0]).toContain(flag);
  });

  it("SECURITY.md's commands and identity are the ones in verify/", () => {
    const security = file(v, 'SECURITY.md');
    const [identity] = identities(v);
    const block = /```sh\n(cosign verify [\s\S]*?)```/.exec(security)![1]!.replace(/\\\n\s*/g, '');
    const commands = block.trim().split('\n');
    const image = VARIANTS[v].image;
    expect(commands[0]).toBe(`cosign verify --certificate-oidc-issuer ${identity.issuer} --certificate-identity-regexp '${identity.subjectRegExp}' ${image}@sha256:<digest>`);
    expect(commands[1]).toBe(`cosign verify-attestation --type cyclonedx --certificate-oidc-issuer ${identity.issuer} --certificate-identity-regexp '${identity.subjectRegExp}' ${image}@sha256:<digest>`);
    if (VARIANTS[v].ci === 'github') {
      expect(commands[2]).toBe(`gh attestation verify oci://${image}@sha256:<digest> --repo ${expectedRepository[v]} --signer-workflow ${expectedRepository[v]}/.github/workflows/container.yml`);
    } else expect(commands).toHaveLength(2);
    expect(security.includes(`the identity assumes \`${expectedRepository[v]}\``)).toBe(v === 'github, another registry (repository assumed)');
  });
});
