import { existsSync } from 'node:fs';
import { assertPlainTree, readRegularFile, readRegularText } from '../safe-read.js';
import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { glob } from 'tinyglobby';
import { parse as parseYaml } from 'yaml';
import { kubernetesTarget, serviceNamespace } from '../../generators/features/kubernetes.js';
import { type Answers, options } from '../../core/options.js';
import { assumedImage } from '../../core/image.js';
import { resolveAnswers } from '../answers.js';
import { UsageError } from '../errors.js';
import { comparePaths, type FileTree } from '../../core/file-tree.js';
import { decodeBase, MANIFEST_PATH, type Manifest } from '../manifest.js';
import { generatorVersion } from '../../core/package-root.js';
import { gatewayDataPlanes } from '../../core/versions.js';
import { type Preset, presetFromRecord } from '../preset.js';
import { renderService } from '../render-service.js';
import { isBehindGenerator } from '../service-drift.js';
import { type Finding, FindingSink, type Skip } from './findings.js';
import { helmTemplate } from './helm.js';
import { targetMinor } from './kubernetes-api.js';
import { checkExposure } from './exposure-rules.js';
import { checkSchemas } from './schema-rules.js';
import { checkAdmissionFit } from './admission-fit.js';
import { floorRenders, referenceChart } from './floor-renders.js';
import { checkGeneratedFloor } from './generated-floor.js';
import { checkManifestFile } from './manifest-rule.js';
import { checkOrgPreset } from './org-preset-rule.js';
import { checkImageAdmissionPolicy, checkRequiredVerifiers } from './admission-policy-rules.js';
import { VERIFIERS } from './verifiers.js';
import { checkLimitRange, checkNamespaceLabels, checkResourceQuota } from './namespace-rules.js';
import { checkKubernetesObjects, isDefaultDeny, type LocatedObject, splitManifests } from './kubernetes-rules.js';
import { checkCi, checkDockerfile, checkDockerignore, checkPresetImage } from './repository-rules.js';
import { type CheckMode, type CheckRule, checkRules, type RuleId } from './rules.js';

export type RuleStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckReport {
  mode: CheckMode;
  /** What was audited, as given (a directory, a file, `-`). */
  target: string;
  generatorVersion: string;
  kubernetesVersion: string;
  podSecurityLevel: 'baseline' | 'restricted';
  preset?: string;
  rules: { rule: CheckRule; status: RuleStatus; note?: string }[];
  findings: Finding[];
  /** Values files the chart was rendered with (service mode). */
  renders: string[];
}

export interface CheckOptions {
  kubeVersion?: string;
  level?: 'baseline' | 'restricted';
  preset?: Preset;
  env?: NodeJS.ProcessEnv;
}

const posix = (p: string) => p.split(sep).join('/');
const NAMESPACE_FILE = 'deploy/namespace.yaml';
const IMAGE_POLICY_FILE = 'deploy/image-policy.yaml';

function summarizeRules(mode: CheckMode, findings: Finding[], skips: Skip[]): CheckReport['rules'] {
  return checkRules
    .filter((r) => (r.modes as readonly CheckMode[]).includes(mode))
    .map((rule) => {
      const mine = findings.filter((f) => f.ruleId === rule.id);
      const skip = skips.find((s) => s.ruleId === rule.id);
      if (mine.some((f) => f.level === 'error')) return { rule, status: 'fail' as const };
      if (mine.length) return { rule, status: 'warn' as const };
      if (skip) return { rule, status: 'skip' as const, note: skip.reason };
      return { rule, status: 'pass' as const };
    });
}

function sortFindings(findings: Finding[]): Finding[] {
  const order = new Map(checkRules.map((r, i) => [r.id as string, i]));
  return [...findings].sort((a, b) => order.get(a.ruleId)! - order.get(b.ruleId)! || comparePaths(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0));
}

/** A file of the service as text, undefined when absent; a FIFO, device or unreadable file is one line naming it. */
async function readIfExists(dir: string, rel: string): Promise<string | undefined> {
  return readRegularText(join(dir, rel), rel);
}

/** Values files a chart is audited with besides its defaults: values*.yaml next to values.yaml, and ci/*.yaml. */
async function valuesFilesOf(chartDir: string): Promise<string[]> {
  const found = await glob(['values*.yaml', 'values*.yml', 'ci/*.yaml', 'ci/*.yml'], { cwd: chartDir, dot: false });
  return found.filter((f) => f !== 'values.yaml' && f !== 'values.yml').sort();
}

function skipIfNothing(sink: FindingSink, ids: RuleId[], reason: string): void {
  for (const id of ids) if (!sink.findings.some((f) => f.ruleId === id)) sink.skip(id, reason);
}

type Reference = { ok: true; tree: FileTree } | { ok: false; error: string };

/**
 * What this generator renders for the service: from its recorded answers, or from the defaults for a service
 * it did not generate. CHS-GEN-001 compares against it, the namespace rules hold deploy/namespace.yaml to it.
 */
async function renderReference(dir: string, manifest: Manifest | undefined, preset: Preset | undefined): Promise<Reference> {
  try {
    // Generator drift only: the preset's defaults fill options newer than the service, but its locks and
    // constraints are CHS-PRE-001..005's business, not this rule's.
    const defaultsOnly = preset ? { preset: { ...preset, locks: {}, constraints: {} } } : {};
    const answers = manifest
      ? await resolveAnswers({ given: {}, recorded: manifest.answers, context: { targetDir: dir }, ...defaultsOnly })
      : await resolveAnswers({ given: { name: 'my-svc' }, context: { targetDir: dir } });
    return { ok: true, tree: await renderService(answers) };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split('\n')[0]! };
  }
}

/** `check [dir]`: audits a service directory (generated by us or not). */
export async function checkService(dirArg: string, cwd: string, opts: CheckOptions = {}): Promise<CheckReport> {
  const dir = resolve(cwd, dirArg);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`${dirArg} is not a directory: give the service's folder (or --manifests <file|dir|-> for rendered YAML)`);
  const sink = new FindingSink();
  const level = opts.level ?? 'restricted';

  const manifest: Manifest | undefined = await checkManifestFile(dir, sink, options);
  checkOrgPreset(manifest, existsSync(join(dir, MANIFEST_PATH)), opts.preset, sink);
  const preset = opts.preset ?? (manifest?.preset ? presetFromRecord(manifest.preset, MANIFEST_PATH) : undefined);
  const kubeVersion = targetMinor(opts.kubeVersion, kubernetesTarget().minor, preset?.constraints.minKubernetesVersion);

  const reference = await renderReference(dir, manifest, preset);

  // Image definition and build context.
  const dockerfileText = await readIfExists(dir, 'Dockerfile');
  const dockerMajor = checkDockerfile(dockerfileText, 'Dockerfile', sink);
  checkDockerignore(await readIfExists(dir, '.dockerignore'), sink);

  // CI.
  const ciFiles = new Map<string, string>();
  for (const path of await glob(['.github/workflows/*.yml', '.github/workflows/*.yaml', '.gitlab-ci.yml'], { cwd: dir, dot: true })) {
    ciFiles.set(path, (await readIfExists(dir, path)) ?? '');
  }
  checkCi(ciFiles, sink, preset);
  if (preset) checkPresetImage(preset, dockerfileText, ciFiles, sink);

  // Kubernetes: manifests under deploy/, then the chart rendered with each values file.
  const deployObjects: LocatedObject[] = [];
  for (const path of await glob(['deploy/**/*.yaml', 'deploy/**/*.yml'], { cwd: dir })) {
    try {
      deployObjects.push(...splitManifests((await readIfExists(dir, path)) ?? '', path));
    } catch (err) {
      sink.add({ ruleId: 'CHS-SCHEMA-001', level: 'error', file: path, message: `cannot parse: ${(err as Error).message}` });
    }
  }
  const namespaceObjects = deployObjects.filter((o) => o.object.kind === 'Namespace');
  const namespace = manifest
    ? serviceNamespace(manifest.answers.name)
    : ((namespaceObjects[0]?.object.metadata as { name?: string } | undefined)?.name ?? 'default');
  const common = { level, kubeVersion: `v${kubeVersion}`, ...(preset ? { preset } : {}) };
  let workloads = checkKubernetesObjects(deployObjects, sink, common);
  checkSchemas(deployObjects, sink, { kubeVersion });
  const inServiceNamespace = (o: LocatedObject) => (o.object.metadata as { namespace?: unknown } | undefined)?.namespace === namespace;
  const defaultDenyFound = deployObjects.some((o) => isDefaultDeny(o.object) && inServiceNamespace(o));

  // The namespace: Pod Security labels, and quota and limits no weaker than the generator's.
  const namespaceFile = namespaceObjects[0]?.file ?? NAMESPACE_FILE;
  const ownNamespace = namespaceObjects.find((o) => (o.object.metadata as { name?: unknown } | undefined)?.name === namespace);
  if (ownNamespace) checkNamespaceLabels(ownNamespace, sink);
  else sink.add({ ruleId: 'CHS-NS-001', level: 'error', file: namespaceFile, message: `no Namespace ${namespace} in deploy/: nothing enforces Pod Security where the service runs` });
  if (reference.ok) {
    const generated = splitManifests(reference.tree.get(NAMESPACE_FILE)?.toString('utf8') ?? '', NAMESPACE_FILE);
    checkResourceQuota(deployObjects, generated, namespace, sink, namespaceFile);
    checkLimitRange(deployObjects, generated, namespace, sink, namespaceFile);
    if (manifest) {
      // deploy/ as generated is its own floor: every object there, its peers, bindings and flags.
      const generatedDeploy = [...reference.tree].filter(([path]) => /^deploy\/.*\.ya?ml$/.test(path)).flatMap(([path, bytes]) => splitManifests(bytes.toString('utf8'), path));
      checkGeneratedFloor(deployObjects, { defaults: generatedDeploy, sameValues: generatedDeploy }, sink);
    }
  } else {
    for (const id of ['CHS-NS-002', 'CHS-NS-003'] as const) sink.skip(id, `cannot render the generator's namespace to compare with: ${reference.error}`);
  }
  // The image admission policy, held to the one the generator renders from the service's own answers.
  if (!manifest) sink.skip('CHS-ADM-001', `not generated by create-hardened-service (no ${MANIFEST_PATH}): no image admission policy to compare with`);
  else if (!reference.ok) sink.skip('CHS-ADM-001', `cannot render the generator's image admission policy to compare with: ${reference.error}`);
  else {
    checkImageAdmissionPolicy(deployObjects, {
      namespace,
      reference: splitManifests(reference.tree.get(IMAGE_POLICY_FILE)?.toString('utf8') ?? '', IMAGE_POLICY_FILE),
      ...(preset?.constraints.allowedRegistries ? { allowedRegistries: preset.constraints.allowedRegistries } : {}),
      fallbackFile: IMAGE_POLICY_FILE,
    }, sink);
  }

  const renders: string[] = [];
  const charts = (await glob(['Chart.yaml', '*/Chart.yaml', '*/*/Chart.yaml'], { cwd: dir, ignore: ['**/node_modules/**', '**/charts/**'] })).sort();
  let renderedDefaultDeny = false;
  if (charts.length === 0) sink.skip('CHS-CHART-001', 'no Helm chart (Chart.yaml) in the service');
  // CHS-FLOOR-001: the generated chart (chart/) is held to what the generator renders for the recorded answers.
  const floorChart = manifest && reference.ok && charts.includes('chart/Chart.yaml') ? await referenceChart(reference.tree) : undefined;
  if (!manifest) sink.skip('CHS-FLOOR-001', `not generated by create-hardened-service (no ${MANIFEST_PATH}): no answers to render the floor from`);
  else if (!reference.ok) sink.skip('CHS-FLOOR-001', `cannot render the generator's chart to compare with: ${reference.error}`);
  else if (!floorChart) sink.skip('CHS-FLOOR-001', 'no chart/ folder: nothing the generator renders to compare with');
  try {
    for (const chartFile of charts) {
      const chartRel = chartFile.slice(0, -'Chart.yaml'.length).replace(/\/$/, '') || '.';
      const chartDir = join(dir, chartRel);
      // helm reads the whole folder: a FIFO there would hang it, a bad name or an unreadable folder break it.
      assertPlainTree(chartDir, chartRel);
      const chartText = readRegularText(join(chartDir, 'Chart.yaml'), posix(chartFile)) ?? '';
      const chartMeta = (() => {
        try {
          return (parseYaml(chartText) ?? {}) as { name?: string };
        } catch {
          return {};
        }
      })();
      const chartName = chartMeta?.name ?? 'chart';
      let ownImage: string | undefined;
      try {
        const values = parseYaml((await readIfExists(dir, posix(join(chartRel, 'values.yaml')))) ?? '') as { image?: { repository?: unknown } } | null;
        if (typeof values?.image?.repository === 'string') ownImage = values.image.repository;
      } catch {
        /* helm reports broken values below */
      }
      const release = manifest?.answers.name ?? chartName;
      // The data plane the answers name (none when the service is not exposed, or was made before the answer).
      const answers = manifest?.answers as Partial<Answers> | undefined;
      const answeredDataPlane =
        answers?.dataPlane && answers.exposure !== 'none' && Object.hasOwn(gatewayDataPlanes.dataPlanes, answers.dataPlane)
          ? { implementation: answers.dataPlane, facts: gatewayDataPlanes.dataPlanes[answers.dataPlane] }
          : undefined;
      // A chart whose image CI names at run time (core/image.ts) renders with a stand-in name, as its CI lints it.
      const assumed = () => assumedImage({ image: '', ci: manifest?.answers.ci ?? 'github', name: release, owner: manifest?.answers.owner ?? 'platform' });
      const standIn = ownImage === '' ? assumed() : undefined;
      if (standIn) ownImage = standIn;
      // The generator's own chart has no image either when the answers leave it to CI: its defaults render gets the stand-in.
      const floorImage = manifest?.answers.image === '' ? [`image.repository=${standIn ?? assumed()}`] : [];
      for (const valuesFile of [undefined, ...(await valuesFilesOf(chartDir))]) {
        const set = standIn && !(await setsImageRepository(chartDir, valuesFile)) ? [`image.repository=${standIn}`] : [];
        const note = valuesFile ? posix(join(chartRel, valuesFile)) : 'default values';
        renders.push(note);
        const rendered = await helmTemplate(chartDir, {
          release,
          namespace,
          kubeVersion: `${kubeVersion}.0`,
          valuesFiles: valuesFile ? [join(chartDir, valuesFile)] : [],
          set,
          ...(opts.env ? { env: opts.env } : {}),
        });
        if (!rendered.ok) {
          sink.add({ ruleId: 'CHS-CHART-001', level: 'error', file: valuesFile ? posix(join(chartRel, valuesFile)) : posix(join(chartRel, 'Chart.yaml')), message: `helm template failed with ${note}: ${rendered.error}` });
          if (rendered.missing) break;
          continue;
        }
        // helm names each document's template as <chart name>/templates/...: map it back to the folder.
        const toPath = (source: string) => posix(join(chartRel, source.split('/').slice(1).join('/')));
        let objects: LocatedObject[];
        try {
          objects = splitManifests(rendered.text, posix(chartFile), toPath);
        } catch (err) {
          sink.add({ ruleId: 'CHS-CHART-001', level: 'error', file: posix(chartFile), message: `rendered YAML with ${note} does not parse: ${(err as Error).message}` });
          continue;
        }
        if (objects.some((o) => isDefaultDeny(o.object))) renderedDefaultDeny = true;
        workloads += checkKubernetesObjects(objects, sink, { ...common, ...(ownImage ? { ownImage } : {}), note });
        checkSchemas(objects, sink, { kubeVersion, note });
        checkExposure(objects, sink, note, answeredDataPlane);
        checkAdmissionFit(deployObjects, objects, namespace, sink, note);
        if (floorChart && chartRel === 'chart') {
          const settings = { release, namespace, kubeVersion: `${kubeVersion}.0`, set, defaultsSet: floorImage, toPath, ...(opts.env ? { env: opts.env } : {}) };
          // The service's values.yaml only when it differs: a chart as generated then shares helm's renders with its floor.
          const ownValues = join(chartDir, 'values.yaml');
          const edited = existsSync(ownValues) && !(reference.ok && readRegularFile(ownValues, posix(join(chartRel, 'values.yaml')))!.equals(reference.tree.get('chart/values.yaml') ?? Buffer.alloc(0)));
          const serviceValues = [...(edited ? [ownValues] : []), ...(valuesFile ? [join(chartDir, valuesFile)] : [])];
          const { floors, problem } = await floorRenders(floorChart, serviceValues, settings);
          if (problem) sink.add({ ruleId: 'CHS-FLOOR-001', level: floors ? 'warning' : 'error', file: valuesFile ? posix(join(chartRel, valuesFile)) : posix(join(chartRel, 'values.yaml')), message: problem }, note);
          if (floors) checkGeneratedFloor(objects, floors, sink, note);
        }
      }
    }
  } finally {
    await floorChart?.close();
  }

  // CHS-NET-001: the namespace's default deny.
  if (!defaultDenyFound && !renderedDefaultDeny) {
    sink.add({
      ruleId: 'CHS-NET-001',
      level: 'error',
      file: deployObjects.find((o) => o.object.kind === 'Namespace')?.file ?? 'deploy/namespace.yaml',
      message: `no default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress], no rules) for namespace ${namespace} in deploy/ or the chart`,
    });
  }
  if (workloads === 0) {
    skipIfNothing(sink, ['CHS-PSS-001', 'CHS-PSS-002', 'CHS-NET-002', 'CHS-RES-001', 'CHS-IMG-002', 'CHS-FIT-001'], 'no workloads found (no chart rendered, nothing in deploy/)');
  }
  if (level === 'baseline') sink.skip('CHS-PSS-002', 'level baseline requested (--level)');

  // Generator drift and the preset's locks, against the manifest.
  if (!manifest) sink.skip('CHS-GEN-001', `not generated by create-hardened-service (no ${MANIFEST_PATH})`);
  else if (!reference.ok) sink.add({ ruleId: 'CHS-GEN-001', level: 'error', file: MANIFEST_PATH, message: `cannot re-render the service from its recorded answers: ${reference.error}` });
  else if (isBehindGenerator(manifest.generator.version, generatorVersion, decodeBase(manifest), reference.tree)) {
    sink.add({
      ruleId: 'CHS-GEN-001',
      level: 'error',
      file: MANIFEST_PATH,
      message: `generated by create-hardened-service ${manifest.generator.version}; ${generatorVersion} renders it differently: run upgrade`,
    });
  }
  if (!preset) {
    for (const id of ['CHS-PRE-001', 'CHS-PRE-002', 'CHS-PRE-003', 'CHS-PRE-004', 'CHS-PRE-005', 'CHS-PRE-006', 'CHS-PRE-007', 'CHS-PRE-008'] as const) sink.skip(id, 'no preset (recorded in the manifest or given with --preset)');
  } else {
    const locks = Object.entries(preset.locks);
    if (!manifest) sink.skip('CHS-PRE-001', `no ${MANIFEST_PATH}: no recorded answers to compare with the locks`);
    else if (locks.length === 0) sink.skip('CHS-PRE-001', 'the preset locks nothing');
    for (const [key, locked] of manifest ? locks : []) {
      const recorded = (manifest!.answers as unknown as Record<string, unknown>)[key];
      if (recorded !== undefined && recorded !== locked) {
        const flag = options.find((o) => o.key === key)?.flag ?? key;
        sink.add({ ruleId: 'CHS-PRE-001', level: 'error', file: MANIFEST_PATH, message: `${key} is ${JSON.stringify(recorded)} but the preset locks it to ${JSON.stringify(locked)} (--${flag})` });
      }
    }
    const min = preset.constraints.minNodeVersion;
    if (min === undefined) sink.skip('CHS-PRE-003', 'the preset sets no minimum Node line');
    else {
      const recordedNode = manifest?.answers.nodeVersion;
      if (recordedNode !== undefined && recordedNode < min) {
        sink.add({ ruleId: 'CHS-PRE-003', level: 'error', file: MANIFEST_PATH, message: `nodeVersion ${recordedNode} is below the preset minimum ${min}` });
      }
      if (dockerMajor !== undefined && dockerMajor < min) {
        sink.add({ ruleId: 'CHS-PRE-003', level: 'error', file: 'Dockerfile', message: `the final stage runs Node ${dockerMajor}, below the preset minimum ${min}` });
      }
      if (dockerMajor === undefined && recordedNode === undefined) sink.skip('CHS-PRE-003', 'cannot tell the Node line: no manifest, and the final image does not name it');
    }
    if (!preset.constraints.allowedRegistries) sink.skip('CHS-PRE-002', 'the preset allows every registry');
    if (!preset.constraints.maxMemoryLimit) sink.skip('CHS-PRE-004', 'the preset sets no memory ceiling');
    const verifiers = preset.constraints.requiredVerifiers;
    if (!verifiers?.length) sink.skip('CHS-PRE-006', 'the preset requires no signature verifier');
    else if (!reference.ok) sink.skip('CHS-PRE-006', `cannot render the generator's verification policies to compare with: ${reference.error}`);
    else {
      // A file that does not parse holds no policy: CHS-PRE-006 says so.
      const objectsOf = (text: string | undefined, file: string) => {
        try {
          return splitManifests(text ?? '', file).map((o) => o.object);
        } catch {
          return [];
        }
      };
      const files = verifiers.map((v) => VERIFIERS[v]!.file);
      const mine = new Map(await Promise.all(files.map(async (f) => [f, objectsOf(await readIfExists(dir, f), f)] as const)));
      const generated = new Map(files.map((f) => [f, objectsOf(reference.tree.get(f)?.toString('utf8'), f)] as const));
      checkRequiredVerifiers(mine, generated, verifiers, sink);
    }
  }

  const findings = sortFindings(sink.result());
  return {
    mode: 'service',
    target: dirArg,
    generatorVersion,
    kubernetesVersion: kubeVersion,
    podSecurityLevel: level,
    ...(preset ? { preset: preset.name ?? preset.source } : {}),
    rules: summarizeRules('service', findings, sink.skips),
    findings,
    renders,
  };
}

/** `check --manifests <file|dir|->`: audits rendered Kubernetes YAML from any tool. */
export async function checkManifests(target: string, cwd: string, stdin: NodeJS.ReadableStream, opts: CheckOptions = {}): Promise<CheckReport> {
  const sink = new FindingSink();
  const kubeVersion = targetMinor(opts.kubeVersion, kubernetesTarget().minor, opts.preset?.constraints.minKubernetesVersion);
  const level = opts.level ?? 'restricted';
  const sources: [string, string][] = [];
  if (target === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    sources.push(['stdin', Buffer.concat(chunks).toString('utf8')]);
  } else {
    const path = resolve(cwd, target);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`--manifests ${target}: no such file or directory`);
    if (info.isDirectory()) {
      const files = (await glob(['**/*.yaml', '**/*.yml'], { cwd: path, ignore: ['**/node_modules/**'] })).sort();
      if (files.length === 0) throw new UsageError(`--manifests ${target}: no .yaml or .yml files in it`);
      for (const f of files) sources.push([posix(relative(cwd, join(path, f))) || f, await readFile(join(path, f), 'utf8')]);
    } else sources.push([posix(relative(cwd, path)) || target, await readFile(path, 'utf8')]);
  }
  const objects: LocatedObject[] = [];
  for (const [file, text] of sources) {
    try {
      objects.push(...splitManifests(text, file));
    } catch (err) {
      throw new UsageError(`--manifests: ${(err as Error).message}`);
    }
  }
  if (objects.length === 0) throw new UsageError(`--manifests ${target}: no Kubernetes objects in it`);
  const workloads = checkKubernetesObjects(objects, sink, { level, kubeVersion: `v${kubeVersion}`, ...(opts.preset ? { preset: opts.preset } : {}) });
  checkSchemas(objects, sink, { kubeVersion });
  checkExposure(objects, sink);
  if (workloads === 0) skipIfNothing(sink, ['CHS-PSS-001', 'CHS-PSS-002', 'CHS-NET-002', 'CHS-RES-001', 'CHS-IMG-002'], 'no pods or pod templates in the manifests');
  const namespaces = objects.filter((o) => o.object.kind === 'Namespace');
  for (const ns of namespaces) checkNamespaceLabels(ns, sink);
  if (namespaces.length === 0) sink.skip('CHS-NS-001', 'no Namespace in the manifests');
  if (level === 'baseline') sink.skip('CHS-PSS-002', 'level baseline requested (--level)');
  if (!opts.preset?.constraints.allowedRegistries) sink.skip('CHS-PRE-002', opts.preset ? 'the preset allows every registry' : 'no preset (--preset)');
  if (!opts.preset?.constraints.maxMemoryLimit) sink.skip('CHS-PRE-004', opts.preset ? 'the preset sets no memory ceiling' : 'no preset (--preset)');
  const findings = sortFindings(sink.result());
  return {
    mode: 'manifests',
    target,
    generatorVersion,
    kubernetesVersion: kubeVersion,
    podSecurityLevel: level,
    ...(opts.preset ? { preset: opts.preset.name ?? opts.preset.source } : {}),
    rules: summarizeRules('manifests', findings, sink.skips),
    findings,
    renders: [],
  };
}

export function reportExitCode(report: CheckReport): number {
  return report.rules.some((r) => r.status === 'fail') ? 1 : 0;
}

/** Whether a values file names the image (then it, not a stand-in, is what that render deploys). */
async function setsImageRepository(chartDir: string, valuesFile: string | undefined): Promise<boolean> {
  if (!valuesFile) return false;
  try {
    const values = parseYaml((await readIfExists(chartDir, valuesFile)) ?? '') as { image?: { repository?: unknown } } | null;
    return typeof values?.image?.repository === 'string' && values.image.repository !== '';
  } catch {
    return false;
  }
}
