import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { freePort } from './reverse-proxy.js';
import type { TestCa } from './test-ca.js';

/**
 * Real database and Redis servers from Debian (`postgresql`, `mariadb-server`, `redis-server`; .ci/run installs
 * them), each a throwaway instance: on 127.0.0.1 and a random port, its data under the given folder, TLS with a
 * certificate of the test's own CA and plain TCP refused, started once per test file. As root they run as
 * `nobody` (PostgreSQL and MariaDB refuse root). kill() ends one the way a crash does; start() brings it back on
 * the same port and data.
 */
const run = promisify(execFile);

export interface BackingServer {
  port: number;
  /** The server's own administration: SQL as the superuser (a script, psql's meta-commands included), or redis-cli's arguments. */
  admin(command: string | string[]): Promise<string>;
  /** Every statement the server ran since it started (PostgreSQL's and MariaDB's statement logs). */
  statementLog(): string;
  /** Ends the server at once, without a clean shutdown. */
  kill(): Promise<void>;
  /** Starts it (again) on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGSTOP to the server and its processes: connections stay open, nothing answers (a frozen host). */
  freeze(): Promise<void>;
  /** SIGCONT: it answers again. */
  thaw(): Promise<void>;
  /** Presents this certificate (signed by the same CA or not) to new connections from now on, without a restart. */
  useCertificate(certFile: string, keyFile: string): Promise<void>;
}

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'postgres')));
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : join(root, newest, 'bin');
}

export const serverBinaries = {
  postgres: postgresBin(),
  mariadbd: ['/usr/sbin/mariadbd'].find((p) => existsSync(p)),
  redis: ['/usr/bin/redis-server'].find((p) => existsSync(p)),
};

/** Fails (never skips) when a server is missing, saying how to get it. */
export function requireBackingServers(): void {
  const missing = Object.entries({ postgresql: serverBinaries.postgres, 'mariadb-server': serverBinaries.mariadbd, 'redis-server': serverBinaries.redis })
    .filter(([, path]) => path === undefined)
    .map(([pkg]) => pkg);
  if (missing.length > 0) throw new Error(`missing database servers: apt-get install -y ${missing.join(' ')} (.ci/run does)`);
}

/** A folder the server's user owns (the servers run as nobody under root). */
function ownedDir(path: string, mode = 0o700): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
  if (isRoot) chownSync(path, NOBODY, NOBODY);
  return path;
}

/** The test CA's server certificate and key, copied where the server's user may read them (keys: 0600). */
function serverTls(dir: string, ca: TestCa): { cert: string; key: string; ca: string } {
  const tls = ownedDir(join(dir, 'tls'));
  const out = { cert: join(tls, 'server.crt'), key: join(tls, 'server.key'), ca: join(tls, 'ca.crt') };
  copyFileSync(ca.certFile, out.cert);
  copyFileSync(ca.keyFile, out.key);
  copyFileSync(ca.caFile, out.ca);
  chmodSync(out.key, 0o600);
  if (isRoot) for (const file of Object.values(out)) chownSync(file, NOBODY, NOBODY);
  return out;
}

/** Copies a certificate and key over the server's own (`tls` from serverTls), readable by the server's user only. */
function replaceCertificate(tls: { cert: string; key: string }, certFile: string, keyFile: string): void {
  copyFileSync(certFile, tls.cert);
  copyFileSync(keyFile, tls.key);
  chmodSync(tls.key, 0o600);
  if (isRoot) for (const file of [tls.cert, tls.key]) chownSync(file, NOBODY, NOBODY);
}

/** The freeze, thaw and kill every server shares. */
function lifecycleOf(server: ReturnType<typeof managed>) {
  return { kill: server.kill, start: server.start, freeze: () => server.signalAll('SIGSTOP'), thaw: () => server.signalAll('SIGCONT') };
}

/** What every server gets: a free loopback port, its folder and a sockets folder its user owns, and the test CA's certificate. */
async function serverFolders(dir: string, ca: TestCa) {
  const port = await freePort();
  ownedDir(dir, 0o755);
  return { port, sockets: ownedDir(join(dir, 'sockets'), 0o755), tls: serverTls(dir, ca) };
}

/** Runs a server program as the server's user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return isRoot ? ['setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', '--', command, ...args]] : [command, args];
}

async function accepting(port: number, timeoutMs: number, child: ChildProcess, log: () => string): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 100))) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket.destroy() !== undefined));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server not accepting on ${port} (exit ${child.exitCode}):\n${log()}`);
  }
}

/** One server process, restartable; its output is kept for error messages. */
function managed(command: string, args: string[], port: number, signal: NodeJS.Signals) {
  let child: ChildProcess | undefined;
  let output = '';
  return {
    output: () => output,
    async start() {
      const [cmd, argv] = asServerUser(command, args);
      output = '';
      const started = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
      started.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      started.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      child = started;
      await accepting(port, 60_000, started, () => output.slice(-4000));
    },
    /** The server process and every process under it (PostgreSQL's backends). */
    async signalAll(signal: NodeJS.Signals) {
      if (!child?.pid) return;
      const pids = [child.pid];
      for (let i = 0; i < pids.length; i++) {
        const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(pids[i])]).catch(() => ({ stdout: '' }));
        pids.push(...stdout.split('\n').map(Number).filter((pid) => pid > 0));
      }
      for (const pid of pids) process.kill(pid, signal);
    },
    async kill() {
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill(signal);
      await exited;
    },
  };
}

export async function startPostgres(dir: string, ca: TestCa): Promise<BackingServer> {
  const bin = serverBinaries.postgres!;
  const { port, sockets, tls } = await serverFolders(dir, ca);
  const data = join(dir, 'data');
  const [initdb, initArgs] = asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions']);
  await run(initdb, initArgs, { timeout: 120_000 });
  // Over TCP: TLS and a password only; the superuser over the local socket, for the test's own administration.
  writeFileSync(join(data, 'pg_hba.conf'), 'local all postgres trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n');
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: sockets,
    ssl: 'on',
    ssl_cert_file: tls.cert,
    ssl_key_file: tls.key,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: '16MB',
    max_connections: '60',
    // Every statement in the server's output: the tests count what the service asks.
    log_statement: 'all',
  };
  // SIGQUIT: PostgreSQL's immediate shutdown, which ends every backend at once, like a crash.
  const server = managed(join(bin, 'postgres'), ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])], port, 'SIGQUIT');
  await server.start();
  let reloadMark = 0;
  const admin = async (sql: string | string[]) =>
    (await execa(join(bin, 'psql'), ['-h', sockets, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atq', '-f', '-'], { input: String(sql), timeout: 30_000 })).stdout;
  return {
    port,
    admin,
    statementLog: server.output,
    ...lifecycleOf(server),
    async useCertificate(certFile, keyFile) {
      replaceCertificate(tls, certFile, keyFile);
      await admin('SELECT pg_reload_conf();');
      // The postmaster reloads on SIGHUP, a moment after the call returns: wait until the log says so.
      for (const deadline = Date.now() + 10_000; !/received SIGHUP/.test(server.output().slice(reloadMark)) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
      reloadMark = server.output().length;
    },
  };
}

export async function startMariadb(dir: string, ca: TestCa): Promise<BackingServer> {
  const { port, sockets, tls } = await serverFolders(dir, ca);
  const data = ownedDir(join(dir, 'data'));
  const socket = join(sockets, 'mysqld.sock');
  const [install, installArgs] = asServerUser('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db']);
  await run(install, installArgs, { timeout: 180_000 });
  const server = managed(
    serverBinaries.mariadbd!,
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--pid-file=${join(sockets, 'mysqld.pid')}`,
      `--ssl-ca=${tls.ca}`,
      `--ssl-cert=${tls.cert}`,
      `--ssl-key=${tls.key}`,
      // Plain TCP refused: every connection over TLS.
      '--require-secure-transport=ON',
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--max-connections=60',
      // Every statement in a file: the tests count what the service asks.
      '--general-log=ON',
      `--general-log-file=${join(sockets, 'statements.log')}`,
    ],
    port,
    'SIGKILL',
  );
  await server.start();
  const admin = async (sql: string | string[]) => (await execa('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B'], { input: String(sql), timeout: 30_000 })).stdout;
  return {
    port,
    admin,
    statementLog: () => readFileSync(join(sockets, 'statements.log'), 'utf8'),
    ...lifecycleOf(server),
    async useCertificate(certFile, keyFile) {
      replaceCertificate(tls, certFile, keyFile);
      await admin('FLUSH SSL;');
    },
  };
}

/** `users`: ACL lines (`user <name> on ><password> ...`); the default user's password is `adminPassword`. */
export async function startRedis(dir: string, ca: TestCa, users: string[] = []): Promise<BackingServer & { adminPassword: string }> {
  const { port, sockets, tls } = await serverFolders(dir, ca);
  const data = ownedDir(join(dir, 'data'));
  const socket = join(sockets, 'redis.sock');
  const adminPassword = 'admin-only-in-tests';
  const config = join(dir, 'redis.conf');
  writeFileSync(
    config,
    [
      'port 0',
      `tls-port ${port}`,
      'bind 127.0.0.1',
      `tls-cert-file ${tls.cert}`,
      `tls-key-file ${tls.key}`,
      `tls-ca-cert-file ${tls.ca}`,
      'tls-auth-clients no',
      `unixsocket ${socket}`,
      'unixsocketperm 777',
      `dir ${data}`,
      'save ""',
      'appendonly no',
      `user default on >${adminPassword} ~* &* +@all`,
      ...users,
      '',
    ].join('\n'),
  );
  const server = managed(serverBinaries.redis!, [config], port, 'SIGKILL');
  await server.start();
  const admin = async (command: string | string[]) =>
    (await run('redis-cli', ['-s', socket, '--user', 'default', '--pass', adminPassword, '--no-auth-warning', ...(Array.isArray(command) ? command : command.split(' '))], { timeout: 30_000 })).stdout;
  return {
    port,
    adminPassword,
    admin,
    statementLog: () => '',
    ...lifecycleOf(server),
    async useCertificate(certFile, keyFile) {
      replaceCertificate(tls, certFile, keyFile);
      await admin(['CONFIG', 'SET', 'tls-cert-file', tls.cert, 'tls-key-file', tls.key]);
    },
  };
}
