/**
 * End to end against real servers: the database and Redis variants of the emitted service, rendered, installed
 * from the registry and built, run against PostgreSQL, MariaDB (the MySQL protocol) and Redis from Debian, each
 * a throwaway instance on loopback with TLS from a CA this test makes. The database users and the Redis ACL user
 * are created with exactly the statements the emitted README gives; the service runs under the pod's constraints
 * (bubblewrap) with the environment and mounts the chart gives its pods and the migrations Job. Each server is
 * started once for the file.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';
import { type BackingServer, requireBackingServers, startMariadb, startPostgres, startRedis } from './support/backing-servers.js';
import { podEnv } from './support/chart-env.js';
import { exitWithin, killStarted, type Running, sandboxedPid, startLogging } from './support/logging-process.js';
import { bwrap, env26, node26, npm, requireServiceTools } from './support/node-lines.js';
import { imageFiles, podSandboxArgs } from './support/pod-sandbox.js';
import { issueCertificate, makeTestCa, type TestCa } from './support/test-ca.js';

const NAME = 'e2e-svc';
const DB = 'e2e_svc';
const EXIT_BOUND_MS = 15_000;
/** What a loaded test machine may add to a bound the service keeps (timers firing late, HTTP round trips). */
const MACHINE_SLACK_MS = 600;

const variants = [
  { id: 'fastify + postgres', given: { framework: 'fastify', database: 'postgres' }, server: 'postgres' },
  { id: 'express + mysql + redis', given: { framework: 'express', database: 'mysql', rateLimitStore: 'redis' }, server: 'mysql' },
  // Redis without a database: the limiter's code and tests on their own.
  { id: 'fastify + redis', given: { framework: 'fastify', rateLimitStore: 'redis' }, server: undefined },
] as const;

let root: string;
let ca: TestCa;
let otherCa: TestCa;
const servers = {} as { postgres: BackingServer; mysql: BackingServer; redis: BackingServer };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The fenced code block that follows `heading` in a Markdown document. */
function codeBlockAfter(markdown: string, heading: string): string {
  const section = markdown.slice(markdown.indexOf(heading));
  const block = /```\w*\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error(`no code block after ${heading}`);
  return block[1]!;
}

/** A shell line's words, single quotes honoured (the README's redis-cli line). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** A folder laid out as the kubelet mounts a Secret: files are links into `..data`, swapped atomically on change. */
async function kubeletSecret(dir: string, files: Record<string, string>): Promise<{ dir: string; update(files: Record<string, string>): Promise<void> }> {
  await mkdir(dir, { recursive: true });
  let generation = 0;
  const update = async (values: Record<string, string>) => {
    const data = `..${Date.now()}.${generation++}`;
    await mkdir(join(dir, data));
    for (const [name, value] of Object.entries(values)) await writeFile(join(dir, data, name), `${value}\n`, { mode: 0o444 });
    await symlink(data, join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    for (const name of Object.keys(values)) await symlink(join('..data', name), join(dir, name)).catch(() => {});
  };
  await update(files);
  return { dir, update };
}

beforeAll(async () => {
  requireServiceTools();
  requireBackingServers();
  root = await mkdtemp(join(tmpdir(), 'chs-backing-'));
  // The servers run as nobody: they must reach their folders below this one.
  await chmod(root, 0o711);
  [ca, otherCa] = await Promise.all([makeTestCa(root), makeTestCa(root, 'untrusted')]);
  const [postgres, mysql, redis] = await Promise.all([startPostgres(join(root, 'postgres'), ca), startMariadb(join(root, 'mariadb'), ca), startRedis(join(root, 'redis'), ca)]);
  Object.assign(servers, { postgres, mysql, redis });
}, 300_000);

afterAll(async () => {
  killStarted();
  await Promise.all(Object.values(servers).map((server) => server?.kill()));
  if (root) await rm(root, { recursive: true, force: true });
});

describe('role names from the service name (README: Users and grants), on the real servers', () => {
  it.each([
    ['pg', 'postgres'],
    ['pg-api', 'postgres'],
    ['pg-api', 'mysql'],
  ] as const)('a service named %s: the README\'s statements for %s run as given, and the chart uses the roles they create', async (name, database) => {
    const files = new Map(await renderService(await answersFor(name, { database })));
    const readme = String(files.get('README.md'));
    const grants = codeBlockAfter(readme, '### Users and grants').replace('<migrations password>', 'migrations-pw-1').replace('<service password>', 'service-pw-12');
    await (database === 'postgres' ? servers.postgres : servers.mysql).admin(grants);
    const values = String(files.get('chart/values.yaml'));
    const user = /^ {2}user: (\S+)$/m.exec(values)![1]!;
    const migrationsUser = /^ {4}user: (\S+)$/m.exec(values)![1]!;
    expect(grants).toContain(database === 'postgres' ? `CREATE ROLE ${migrationsUser} LOGIN` : `CREATE USER '${migrationsUser}'@'%'`);
    expect(grants).toContain(database === 'postgres' ? `CREATE ROLE ${user} LOGIN` : `CREATE USER '${user}'@'%'`);
    // The roles exist under exactly the names the chart gives the pods and the Job.
    const count = (role: string) =>
      database === 'postgres'
        ? servers.postgres.admin(`SELECT count(*) FROM pg_roles WHERE rolname = '${role}';`)
        : servers.mysql.admin(`SELECT COUNT(*) FROM mysql.user WHERE User = '${role}';`);
    expect([await count(user), await count(migrationsUser)]).toEqual(['1', '1']);
  });
});

describe.each(variants)('backing services end to end: $id (Node 26, real servers)', ({ id, given, server }) => {
  const withRedis = 'rateLimitStore' in given;
  const withDatabase = server !== undefined;
  const passwords = { service: randomBytes(12).toString('hex'), migrations: randomBytes(12).toString('hex'), redis: randomBytes(12).toString('hex') };
  let dir: string;
  let svc: string;
  let app: string;
  let readme: string;
  let pod: Awaited<ReturnType<typeof kubeletSecret>>;
  let job: Awaited<ReturnType<typeof kubeletSecret>>;
  let caDir: string;
  let otherCaDir: string;
  let podEnvironment: Record<string, string>;
  /** The README's redis-cli ACL SETUSER arguments, with this run's password. */
  let redisAcl: string[] = [];
  let jobEnvironment: Record<string, string>;
  const database = () => servers[server!];
  /** The files of the pod's Secret: each backing service's password. */
  const podSecrets = () => ({ ...(withDatabase ? { 'database-password': passwords.service } : {}), ...(withRedis ? { 'redis-password': passwords.redis } : {}) });

  /**
   * For a test that loads the service from one address: a limit it never reaches, and counts of its own in Redis,
   * so the shared count of the tests after it starts from zero.
   */
  const unlimited = () => ({ RATE_LIMIT_MAX: '1000000', REDIS_KEY_PREFIX: `${NAME}:rate-limit:${randomBytes(6).toString('hex')}:` });

  /** Runs `args` (dist/server.js by default) in the pod's sandbox, with the pod's mounts and environment. */
  const inPod = (env: Record<string, string>, mounts: Record<string, string> = {}, args = ['dist/server.js']) =>
    startLogging(
      bwrap!,
      [
        ...podSandboxArgs({
          app,
          mounts: { '/run/secrets': pod.dir, ...(withDatabase ? { '/run/database-tls': caDir } : {}), ...(withRedis ? { '/run/redis-tls': caDir } : {}), ...mounts },
          env: { ...podEnvironment, PORT: '0', PROBE_PORT: '0', HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: '200', SECRETS_RELOAD_MS: '200', ...env },
        }),
        node26,
        ...args,
      ],
      { cwd: app, env: process.env },
    );
  const serve = async (env: Record<string, string> = {}, mounts: Record<string, string> = {}) => {
    const run = inPod(env, mounts);
    const { port } = await run.waitForLog('listening', 30_000);
    return { run, base: `http://127.0.0.1:${port}` };
  };
  const stop = async (run: Running) => {
    process.kill(sandboxedPid(run.child.pid!), 'SIGTERM');
    return exitWithin(run, EXIT_BOUND_MS);
  };
  const sessionsOf = async (user: string) =>
    Number(
      await database().admin(
        server === 'postgres'
          ? `SELECT count(*) FROM pg_stat_activity WHERE usename = '${user}';`
          : `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '${user}';`,
      ),
    );

  beforeAll(async () => {
    dir = join(root, id.replace(/\W+/g, '-'));
    svc = join(dir, 'svc');
    for (const [path, bytes] of await renderService(await answersFor(NAME, { ...given, nodeVersion: '26' }))) {
      await mkdir(dirname(join(svc, path)), { recursive: true });
      await writeFile(join(svc, path), bytes);
    }
    readme = await readFile(join(svc, 'README.md'), 'utf8');
    if (withDatabase) {
      // The users and grants exactly as the README gives them, with this run's passwords.
      const grants = codeBlockAfter(readme, '### Users and grants').replace('<migrations password>', passwords.migrations).replace('<service password>', passwords.service);
      await database().admin(grants);
    }
    if (withRedis) {
      redisAcl = shellWords(codeBlockAfter(readme, '## Rate-limit store (Redis)').trim()).slice(1).map((word) => word.replace('<service password>', passwords.redis));
      await servers.redis.admin(redisAcl);
    }
    await npm(['ci'], svc);
    await npm(['run', 'build'], svc, 120_000);
    app = await imageFiles(svc, join(dir, 'app'));

    caDir = join(dir, 'database-ca');
    otherCaDir = join(dir, 'untrusted-ca');
    await mkdir(caDir);
    await mkdir(otherCaDir);
    await copyFile(ca.caFile, join(caDir, 'ca.crt'));
    await copyFile(otherCa.caFile, join(otherCaDir, 'ca.crt'));
    pod = await kubeletSecret(join(dir, 'pod-secrets'), podSecrets());
    job = await kubeletSecret(join(dir, 'job-secrets'), { 'database-migrations-password': passwords.migrations });

    // What the chart gives the pods and the Job, pointed at the loopback servers.
    const values = {
      ...(withDatabase ? { database: { host: '127.0.0.1', port: database().port, readinessCacheMs: 500, connectTimeoutMs: 2000 } } : {}),
      ...(withRedis ? { redis: { host: '127.0.0.1', port: servers.redis.port } } : {}),
    };
    podEnvironment = await podEnv(join(svc, 'chart'), values);
    if (withDatabase) jobEnvironment = await podEnv(join(svc, 'chart'), values, 'Job');
  }, 900_000);

  /** `node dist/migrate.js` as the chart's Job runs it, under the pod's constraints; `env` added to the Job's. */
  const migrate = (env: Record<string, string> = {}) =>
    startLogging(
      bwrap!,
      [...podSandboxArgs({ app, mounts: { '/run/secrets': job.dir, '/run/database-tls': caDir }, env: { ...jobEnvironment, ...env } }), node26, 'dist/migrate.js'],
      { cwd: app, env: process.env },
    );

  it.runIf(withDatabase)("the migrations Job, as the chart runs it under the pod's constraints: applies migrations/*.sql as the tables' owner; a second run applies nothing", async () => {
    expect(jobEnvironment.DB_MIGRATIONS_USER).toBe(`${DB}_migrations`);
    const first = migrate();
    expect(await exitWithin(first, 60_000), first.raw.join('\n')).toBe(0);
    expect(first.lines.find((l) => l.msg === 'migrations applied')).toMatchObject({ applied: ['0001_create_greetings'], user: `${DB}_migrations` });
    const second = migrate();
    expect(await exitWithin(second, 60_000), second.raw.join('\n')).toBe(0);
    expect(second.lines.some((l) => l.msg === 'migrations: nothing to apply')).toBe(true);
  });

  it.runIf(withDatabase)("migrations: a slow one outlives the pods' statement timeout, two Jobs at once apply it once (the second waits for the lock), and an applied file edited later stops the run with one line", async () => {
    expect(jobEnvironment.DB_MIGRATIONS_TIMEOUT_MS).toBe('600000');
    const before = migrate();
    expect(await exitWithin(before, 60_000), before.raw.join('\n')).toBe(0);
    // A schema_migrations from before checksums were recorded (a service upgraded): the runs below add the column.
    await database().admin(server === 'postgres' ? `\\connect ${DB}\nALTER TABLE schema_migrations DROP COLUMN checksum;` : `ALTER TABLE ${DB}.schema_migrations DROP COLUMN checksum;`);
    // 2 s of work, with the pods' statement timeout at 1 s: only the Job's own timeout lets it through.
    const slow = join(app, 'migrations', '0002_slow_marker.sql');
    await writeFile(slow, `${server === 'postgres' ? 'SELECT pg_sleep(2);' : 'DO SLEEP(2);'}\nCREATE TABLE slow_marker (id int);\n`);
    const env = { DB_STATEMENT_TIMEOUT_MS: '1000' };
    const runs = [migrate(env), migrate(env)];
    const codes = await Promise.all(runs.map((run) => exitWithin(run, 60_000)));
    expect(codes, runs.map((run) => run.raw.join('\n')).join('\n---\n')).toEqual([0, 0]);
    const applied = runs.map((run) => run.lines.find((l) => l.msg === 'migrations applied' || l.msg === 'migrations: nothing to apply')?.applied);
    expect(applied.map((a) => JSON.stringify(a)).sort()).toEqual(['["0002_slow_marker"]', '[]']);

    const first = join(app, 'migrations', '0001_create_greetings.sql');
    const original = await readFile(first, 'utf8');
    await writeFile(first, `${original}-- edited after it was applied\n`);
    try {
      const edited = migrate();
      expect(await exitWithin(edited, 60_000), edited.raw.join('\n')).toBe(1);
      const fatal = edited.lines.filter((l) => l.level === 'fatal');
      expect(fatal).toHaveLength(1);
      expect(JSON.stringify(fatal[0])).toMatch(/migration 0001_create_greetings was changed after it was applied/);
    } finally {
      await writeFile(first, original);
    }
  }, 180_000);

  it.runIf(withDatabase || withRedis)('an empty (blank) password file stops the start with one line, even with PGPASSWORD holding the right password', async () => {
    const emptied = withDatabase ? 'database-password' : 'redis-password';
    const secrets = await kubeletSecret(join(dir, 'blank-secrets'), { ...podSecrets(), [emptied]: '' });
    const run = inPod({ PGPASSWORD: passwords.service }, { '/run/secrets': secrets.dir });
    expect(await exitWithin(run, EXIT_BOUND_MS), run.raw.join('\n')).toBe(1);
    const fatal = run.lines.filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toMatch(new RegExp(`secret ${emptied} is empty`));
    expect(run.raw.join('\n')).not.toContain(passwords.service);
  });

  it.runIf(withDatabase || withRedis)('a certificate from the trusted CA naming only DNS:localhost, presented for 127.0.0.1: every client refuses it (the host dialled is checked, IP SANs for an IP address)', async () => {
    const wrong = await issueCertificate(ca, dir, 'wrong-name', 'DNS:localhost');
    const used = [...(withDatabase ? [database()] : []), ...(withRedis ? [servers.redis] : [])];
    for (const one of used) await one.useCertificate(wrong.certFile, wrong.keyFile);
    try {
      const { run, base } = await serve();
      const refusal = /altnames|does not match|IP: 127\.0\.0\.1/i;
      if (withDatabase) {
        const line = await run.waitForLog('database unreachable: readiness is now false');
        expect(JSON.stringify(line.err)).toMatch(refusal);
        expect((await fetch(`${base}/readyz`)).status).toBe(503);
      }
      if (withRedis) {
        const line = await run.waitForLog('rate-limit store unavailable: counting per pod until Redis answers again');
        expect(JSON.stringify(line.err)).toMatch(refusal);
        expect(run.lines.some((l) => l.msg === 'rate-limit store connected: counts are shared')).toBe(false);
      }
      expect(await stop(run)).toBe(0);
    } finally {
      for (const one of used) await one.useCertificate(ca.certFile, ca.keyFile);
    }
  });

  it.runIf(withDatabase)("a table locked 6 s, then the server frozen (SIGSTOP): each request with a free connection ends within DB_STATEMENT_TIMEOUT_MS + the README's margin, as 503 with Retry-After and one short log line; /readyz stays 200 while the pool is saturated; the pool is whole afterwards", async () => {
    const timeoutMs = 1_000;
    const poolMax = 4;
    // The README's promise, and the client's margin in the emitted code: the same figure.
    const margin = /`DB_STATEMENT_TIMEOUT_MS` \+ (\d+) s/.exec(readme);
    expect(margin).not.toBeNull();
    const marginMs = Number(margin![1]) * 1_000;
    const source = await readFile(join(svc, 'src', 'database-config.ts'), 'utf8');
    expect(Number(/CLIENT_TIMEOUT_MARGIN_MS = ([\d_]+)/.exec(source)![1]!.replace(/_/g, ''))).toBe(marginMs);
    // The README's measured figures hold its own bound.
    const measured = /at most with the table locked, ([\d.]+) s at most with the server frozen/.exec(readme);
    const lockedClaim = /([\d.]+) s at most with the table locked/.exec(readme);
    expect(Number(lockedClaim![1]) * 1_000).toBeLessThanOrEqual(timeoutMs + marginMs);
    expect(Number(measured![1]) * 1_000).toBeLessThanOrEqual(timeoutMs + marginMs + 100);

    // The table to lock, when this test runs alone.
    const migrated = migrate();
    expect(await exitWithin(migrated, 60_000), migrated.raw.join('\n')).toBe(0);
    const { run, base } = await serve({ DB_STATEMENT_TIMEOUT_MS: String(timeoutMs), DB_POOL_MAX: String(poolMax), ...unlimited() });
    await run.waitForLog('database reachable');
    const timed = async () => {
      const started = performance.now();
      const response = await fetch(`${base}/greetings?name=Locked`);
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as unknown, ms: performance.now() - started };
    };
    /** One request per connection of the pool, at once. */
    const round = () => Promise.all(Array.from({ length: poolMax }, timed));
    const bound = timeoutMs + marginMs + MACHINE_SLACK_MS;
    const expectBounded = (answers: Awaited<ReturnType<typeof round>>) => expect(answers.map((a) => a.ms).filter((ms) => ms > bound)).toEqual([]);
    const expectUnavailable = (answers: Awaited<ReturnType<typeof round>>) => {
      for (const answer of answers) expect(answer).toMatchObject({ status: 503, retryAfter: '5', body: { error: 'unavailable' } });
    };
    const lockSql =
      server === 'postgres'
        ? `\\connect ${DB}\nBEGIN; LOCK TABLE greetings IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;`
        : `LOCK TABLES ${DB}.greetings WRITE; SELECT SLEEP(6); UNLOCK TABLES;`;
    const lock = database().admin(lockSql);
    // Awaited below; a failure here is reported there, not as an unhandled rejection.
    lock.catch(() => {});
    await sleep(500);
    const locked = [...(await round()), ...(await round())];
    expectBounded(locked);

    // Three requests per connection, for 2 s, while /readyz is sampled: it asks on a connection of its own.
    let loading = true;
    const load = Promise.all(Array.from({ length: poolMax * 3 }, async () => {
      while (loading) await fetch(`${base}/greetings?name=Locked`).then((r) => r.arrayBuffer(), () => undefined);
    }));
    const readyz: number[] = [];
    for (const end = Date.now() + 2_000; Date.now() < end; await sleep(100)) readyz.push((await fetch(`${base}/readyz`)).status);
    loading = false;
    await load;
    expect(readyz.filter((status) => status !== 200), `readyz: ${readyz.join(' ')}`).toEqual([]);
    await lock;

    // The lock gone, every connection serves again; then each holds a statement when the server freezes.
    for (let i = 0; i < 20 && (await round()).some((a) => a.status !== 200); i++) await sleep(200);
    expect((await round()).map((a) => a.status)).toEqual(Array(poolMax).fill(200));
    await database().freeze();
    let frozen: Awaited<ReturnType<typeof round>>;
    try {
      frozen = await round();
    } finally {
      await database().thaw();
    }
    expectBounded(frozen);
    let back = 0;
    for (let i = 0; i < 50 && back !== 200; i++, await sleep(200)) back = (await timed()).status;
    expect(back).toBe(200);

    const worst = (answers: { ms: number }[]) => Math.max(...answers.map((a) => a.ms));
    console.log(`${server}: DB_STATEMENT_TIMEOUT_MS=${timeoutMs}: locked table ${Math.round(worst(locked))} ms at most, frozen server ${Math.round(worst(frozen))} ms at most`);
    expectUnavailable([...locked, ...frozen]);
    // One short line per request answered 503: the class and code, never the statement.
    const unavailable = run.raw.filter((line) => line.includes('database unavailable: answered 503'));
    expect(unavailable.length).toBeGreaterThanOrEqual(locked.length + frozen.length);
    for (const line of unavailable) {
      expect(line.length).toBeLessThan(300);
      expect(line).not.toMatch(/SELECT|greetings|password/i);
      expect(JSON.parse(line).err).toEqual({ class: expect.any(String), code: expect.any(String) });
    }
    expect(run.lines.some((l) => l.msg === 'request failed')).toBe(false);
    expect(await stop(run)).toBe(0);
  }, 120_000);

  /**
   * The integration tests' environment, as CI sets it: the servers, the users, the password files in `secrets`
   * (written now, with the current passwords) and the CA at `caFile`; Redis keys under `keys`.
   */
  const integrationEnv = async (secrets: string, caFile: string, keys: string, inSandbox = false) => {
    await mkdir(secrets);
    for (const [file, value] of Object.entries({ service: passwords.service, migrations: passwords.migrations, redis: passwords.redis })) await writeFile(join(secrets, file), value, { mode: 0o444 });
    const file = (name: string) => join(inSandbox ? '/run/test-secrets' : secrets, name);
    return {
      ...(withDatabase
        ? {
            TEST_DB_HOST: '127.0.0.1',
            TEST_DB_PORT: String(database().port),
            TEST_DB_NAME: DB,
            TEST_DB_USER: DB,
            TEST_DB_PASSWORD_FILE: file('service'),
            TEST_DB_MIGRATIONS_USER: `${DB}_migrations`,
            TEST_DB_MIGRATIONS_PASSWORD_FILE: file('migrations'),
            TEST_DB_CA_FILE: caFile,
          }
        : {}),
      ...(withRedis
        ? {
            TEST_REDIS_HOST: '127.0.0.1',
            TEST_REDIS_PORT: String(servers.redis.port),
            TEST_REDIS_USER: NAME,
            TEST_REDIS_PASSWORD_FILE: file('redis'),
            TEST_REDIS_CA_FILE: caFile,
            TEST_REDIS_KEY_PREFIX: `${NAME}:rate-limit:${keys}:`,
          }
        : {}),
    } as Record<string, string>;
  };
  const integrationFiles = () => [...(withDatabase ? ['test/database.integration.test.ts'] : []), ...(withRedis ? ['test/rate-limit-store.integration.test.ts'] : [])];
  /** `node --test` output of the integration tests: they all ran against the servers, none failed or was skipped. */
  const expectIntegrationRan = (output: string, redis = withRedis) => {
    expect(output).toMatch(/ℹ fail 0/);
    if (withDatabase) expect(output).toMatch(/✔ database integration \(a real server\)/);
    if (redis) expect(output).toMatch(/✔ rate-limit store integration \(a real Redis\)/);
    expect(output).not.toMatch(/# no (database|Redis):/);
  };

  it("npm test: the service's own tests pass, its integration tests included, against the real server over verified TLS as the least-privileged user", async () => {
    const env = await integrationEnv(join(dir, 'test-secrets'), ca.caFile, 'test');
    expectIntegrationRan((await npm(['test'], svc, 240_000, 26, env)).all);
  });

  it("the integration tests again under the pod's constraints (bubblewrap: uid 65532, read-only root, only /tmp writable), over verified TLS", async () => {
    const secrets = join(dir, 'sandbox-test-secrets');
    const env = await integrationEnv(secrets, '/run/test-ca/ca.crt', 'sandbox', true);
    // The checkout with its dev dependencies (the tests run the TypeScript sources), read-only.
    const sandbox = podSandboxArgs({ app: svc, mounts: { '/run/test-secrets': secrets, '/run/test-ca': caDir }, env });
    const run = startLogging(bwrap!, [...sandbox, node26, '--test', ...integrationFiles()], { cwd: svc, env: process.env });
    const code = await exitWithin(run, 180_000);
    expect(code, run.raw.join('\n')).toBe(0);
    expectIntegrationRan(run.raw.join('\n'));
    expect(run.raw.join('\n')).not.toMatch(/ℹ skipped [1-9]/);
  });

  it.runIf(withDatabase)('the integration tests wait for a database still starting, as a CI service container may be: started 3 s after them, they pass', async () => {
    const env = await integrationEnv(join(dir, 'starting-test-secrets'), ca.caFile, 'starting');
    await database().kill();
    const run = startLogging(node26, ['--test', 'test/database.integration.test.ts'], { cwd: svc, env: { ...env26, ...env } });
    try {
      await sleep(3_000);
      expect(run.child.exitCode, run.raw.join('\n')).toBeNull();
    } finally {
      await database().start();
    }
    const code = await exitWithin(run, 120_000);
    expect(code, run.raw.join('\n')).toBe(0);
    expectIntegrationRan(run.raw.join('\n'), false);
  });

  it.runIf(withDatabase)("node dist/server.js with the pod's environment: ready once the database answers, serves /greetings as the service's user over TLS, asks the database for readiness at most once per DB_READINESS_CACHE_MS, and on SIGTERM closes the pool before exiting 0", async () => {
    const { run, base } = await serve();
    await run.waitForLog('database reachable');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const post = await fetch(`${base}/greetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Pod"}' });
    expect(post.status).toBe(201);
    expect(await (await fetch(`${base}/greetings?name=Pod`)).json()).toMatchObject({ name: 'Pod' });
    expect(await sessionsOf(DB)).toBeGreaterThan(0);
    if (server === 'postgres') {
      const plain = await database().admin(`SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = '${DB}' AND NOT ssl;`);
      expect(Number(plain)).toBe(0);
    }

    // 40 probes in 2 s, DB_READINESS_CACHE_MS 500: at most one check per 500 ms reaches the database.
    await sleep(600);
    const before = (database().statementLog().match(/SELECT 1\b/g) ?? []).length;
    for (let i = 0; i < 40; i++) {
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      await sleep(50);
    }
    const asked = (database().statementLog().match(/SELECT 1\b/g) ?? []).length - before;
    expect(asked).toBeGreaterThan(0);
    expect(asked).toBeLessThanOrEqual(5);

    expect(await stop(run)).toBe(0);
    expect(run.lines.some((l) => l.msg === 'shutdown complete')).toBe(true);
    for (let i = 0; i < 20 && (await sessionsOf(DB)) > 0; i++) await sleep(100);
    expect(await sessionsOf(DB)).toBe(0);
    expect(run.raw.join('\n')).not.toContain(passwords.service);
  });

  it.runIf(withDatabase)('the database killed mid-load: /readyz answers 503 while /healthz keeps answering 200, and readiness returns with the database', async () => {
    // The load comes from one address: the rate limit would answer it instead of the database.
    const { run, base } = await serve(unlimited());
    await run.waitForLog('database reachable');
    let loading = true;
    const loadStatuses: number[] = [];
    const load = Promise.all(
      Array.from({ length: 3 }, async () => {
        while (loading) loadStatuses.push(await fetch(`${base}/greetings?name=Load`).then((r) => r.status, () => 0));
      }),
    );
    const probes: { at: number; readyz: number; healthz: number }[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const [readyz, healthz] = await Promise.all([`${base}/readyz`, `${base}/healthz`].map((url) => fetch(url).then((r) => r.status, () => 0)));
        probes.push({ at: Date.now(), readyz: readyz!, healthz: healthz! });
        await sleep(100);
      }
    })();
    const until = async (what: string, ok: () => boolean, ms: number) => {
      for (const deadline = Date.now() + ms; !ok(); await sleep(50)) if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms:\n${JSON.stringify(probes.slice(-20))}`);
    };
    try {
      await sleep(500);
      expect(probes.every((p) => p.readyz === 200)).toBe(true);
      await database().kill();
      const killedAt = Date.now();
      await until('/readyz 503', () => probes.some((p) => p.at > killedAt && p.readyz === 503), 10_000);
      await sleep(1_000);
      await database().start();
      const backAt = Date.now();
      await until('/readyz 200 again', () => probes.some((p) => p.at > backAt && p.readyz === 200), 20_000);
      await sleep(300);
    } finally {
      loading = false;
      probing = false;
      await Promise.all([load, prober]);
    }
    expect(probes.every((p) => p.healthz === 200), JSON.stringify(probes.filter((p) => p.healthz !== 200))).toBe(true);
    expect(loadStatuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    // During the outage the sample route fails fast (503 with Retry-After), it does not hang; nothing else but 200 and 503.
    expect(loadStatuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(loadStatuses).toContain(503);
    expect(run.lines.some((l) => l.msg === 'database unreachable: readiness is now false')).toBe(true);
    expect(run.lines.some((l) => l.msg === 'database reachable again: readiness restored')).toBe(true);
    expect(await stop(run)).toBe(0);
  }, 120_000);

  it.runIf(withDatabase)('a rotated password: the database user gets a new one and the mounted file changes; new connections use it without a restart', async () => {
    const { run, base } = await serve();
    await run.waitForLog('database reachable');
    const rotated = randomBytes(12).toString('hex');
    await database().admin(server === 'postgres' ? `ALTER ROLE ${DB} PASSWORD '${rotated}';` : `ALTER USER '${DB}'@'%' IDENTIFIED BY '${rotated}';`);
    await pod.update({ ...podSecrets(), 'database-password': rotated });
    await run.waitForLog('secret file changed: new connections use the new value', 5_000);
    // Every connection opened with the old password is closed by the server: only new ones are left.
    await database().admin(
      server === 'postgres'
        ? `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${DB}';`
        : `SELECT CONCAT('KILL ', ID, ';') FROM information_schema.PROCESSLIST WHERE USER = '${DB}';`,
    ).then(async (kills) => {
      if (server === 'mysql' && kills.trim()) await database().admin(kills);
    });
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++, await sleep(100)) status = (await fetch(`${base}/greetings?name=Rotated`)).status;
    expect(status).toBe(200);
    expect(run.exited).toBeDefined();
    expect(run.child.exitCode).toBeNull();
    expect(run.raw.join('\n')).not.toContain(rotated);
    expect(await stop(run)).toBe(0);
    passwords.service = rotated;
  });

  it.runIf(withDatabase)('a server certificate the mounted CA did not sign: no connection, /readyz 503, and the log says why', async () => {
    const { run, base } = await serve({}, { '/run/database-tls': otherCaDir });
    const line = await run.waitForLog('database unreachable: readiness is now false');
    expect(JSON.stringify(line.err)).toMatch(/certificate|self[- ]signed/i);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await stop(run)).toBe(0);
  });

  it.runIf(withRedis)("two pods share the rate limit in Redis over verified TLS as the README's ACL user; Redis killed: each pod limits alone and says so; back: shared again", async () => {
    const env = { RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_MS: '3000' };
    const pods = [await serve(env), await serve(env)];
    for (const { run } of pods) await run.waitForLog('rate-limit store connected: counts are shared');
    /** 10 requests of one client spread over both pods, in a fresh window: how many got through. */
    const admitted = async () => {
      await sleep(3_000 - (Date.now() % 3_000) + 50);
      let ok = 0;
      for (let i = 0; i < 10; i++) {
        if ((await fetch(`${pods[i % 2]!.base}/hello`)).status === 200) ok++;
        await sleep(20);
      }
      return ok;
    };
    // Shared: RATE_LIMIT_MAX, plus at most one per other pod; two memory stores would admit 8.
    expect(await admitted()).toBeLessThanOrEqual(5);
    await servers.redis.kill();
    for (const { run } of pods) await run.waitForLog('rate-limit store unavailable: counting per pod until Redis answers again');
    // Fails open to the per-pod limit, never to no limit: each pod admits its own 4.
    expect(await admitted()).toBe(8);
    // A restarted Redis has lost the ACL user created at run time: create it again.
    await servers.redis.start();
    await servers.redis.admin(redisAcl);
    for (const { run } of pods) await run.waitForLog('rate-limit store available again: counts are shared', 20_000);
    expect(await admitted()).toBeLessThanOrEqual(5);
    for (const { run } of pods) expect(await stop(run)).toBe(0);
  }, 120_000);

  it.runIf(withRedis)("the README's shared limit, measured: a burst at once across two pods gets exactly RATE_LIMIT_MAX; Redis frozen (SIGSTOP): each request waits at most REDIS_COMMAND_TIMEOUT_MS, then the pod counts alone", async () => {
    const claim = /(\d+) requests at once across (\d+) pods with `RATE_LIMIT_MAX=(\d+)`: (\d+) admitted/.exec(readme);
    expect(claim, 'the README states the measured burst').not.toBeNull();
    const [requests, podCount, max, admittedClaim] = claim!.slice(1).map(Number) as [number, number, number, number];
    expect(readme).toContain('a client gets at most `RATE_LIMIT_MAX` requests per window');
    expect(admittedClaim).toBeLessThanOrEqual(max);
    const windowMs = 4_000;
    const env = { RATE_LIMIT_MAX: String(max), RATE_LIMIT_WINDOW_MS: String(windowMs), REDIS_KEY_PREFIX: `${NAME}:rate-limit:burst:` };
    const pods = await Promise.all(Array.from({ length: podCount }, () => serve(env)));
    for (const { run } of pods) await run.waitForLog('rate-limit store connected: counts are shared');
    // At the start of a fresh window, every request at once, spread over the pods.
    await sleep(windowMs - (Date.now() % windowMs) + 50);
    const statuses = await Promise.all(Array.from({ length: requests }, (_, i) => fetch(`${pods[i % podCount]!.base}/hello`).then((r) => r.status)));
    const admitted = statuses.filter((status) => status === 200).length;
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(admitted).toBe(admittedClaim);

    // Redis frozen: no answer comes; each request waits REDIS_COMMAND_TIMEOUT_MS at most, then counts in the pod.
    const commandTimeoutMs = Number(podEnvironment.REDIS_COMMAND_TIMEOUT_MS ?? 250);
    await servers.redis.freeze();
    const waits: number[] = [];
    try {
      await sleep(windowMs - (Date.now() % windowMs) + 50);
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        expect((await fetch(`${pods[0]!.base}/hello`)).status).toBe(200);
        waits.push(performance.now() - started);
      }
    } finally {
      await servers.redis.thaw();
    }
    expect(Math.max(...waits), waits.join(' ')).toBeLessThanOrEqual(commandTimeoutMs + MACHINE_SLACK_MS);
    await pods[0]!.run.waitForLog('rate-limit store unavailable: counting per pod until Redis answers again');
    for (let i = 0; i < 20 && !pods[0]!.run.lines.some((l) => l.msg === 'rate-limit store available again: counts are shared'); i++) {
      await fetch(`${pods[0]!.base}/hello`);
      await sleep(100);
    }
    expect(pods[0]!.run.lines.some((l) => l.msg === 'rate-limit store available again: counts are shared')).toBe(true);
    console.log(`${id}: ${requests} requests at once across ${podCount} pods, RATE_LIMIT_MAX=${max}: ${admitted} admitted; Redis frozen: ${waits.map(Math.round).join(', ')} ms`);
    for (const { run } of pods) expect(await stop(run)).toBe(0);
  }, 60_000);

  it.runIf(withRedis)('a rotated Redis password: the ACL user holds both, the mounted file changes; the pod counts in Redis with the new one, without a restart, once the old one is gone', async () => {
    // A key prefix of its own (still under the ACL's pattern): the counts below are this test's only.
    const prefix = `${NAME}:rate-limit:rotation:`;
    const { run, base } = await serve({ REDIS_KEY_PREFIX: prefix, RATE_LIMIT_MAX: '1000' });
    await run.waitForLog('rate-limit store connected: counts are shared');
    const counted = async () => {
      const keys = (await servers.redis.admin(['--scan', '--pattern', `${prefix}*`])).split('\n').filter(Boolean);
      let sum = 0;
      for (const key of keys) sum += Number(await servers.redis.admin(['GET', key]));
      return sum;
    };
    const rotated = randomBytes(12).toString('hex');
    // The README's steps: add the new password, update the Secret, and once the pod logs the change remove the old one.
    await servers.redis.admin(['ACL', 'SETUSER', NAME, `>${rotated}`]);
    await pod.update({ ...podSecrets(), 'redis-password': rotated });
    await run.waitForLog('secret file changed: new connections use the new value', 5_000);
    await servers.redis.admin(['ACL', 'SETUSER', NAME, `<${passwords.redis}`]);
    // Whatever is still connected was authenticated before: cut it, so only a connection with the new password can count.
    await servers.redis.admin(['CLIENT', 'KILL', 'USER', NAME]);
    const before = await counted();
    let shared = false;
    for (let i = 0; i < 40 && !shared; i++, await sleep(100)) {
      expect((await fetch(`${base}/hello`)).status).toBe(200);
      shared = (await counted()) > before;
    }
    expect(shared, run.raw.slice(-10).join('\n')).toBe(true);
    expect(run.child.exitCode).toBeNull();
    expect(run.raw.join('\n')).not.toContain(rotated);
    expect(await stop(run)).toBe(0);
    passwords.redis = rotated;
  }, 60_000);
});
