/**
 * The one place that finds or starts a MySQL-compatible server for development and tests.
 *
 * Tooling, not the app: it may read process.env (the app reads it only in lib/config.ts).
 *
 * Environment it reads:
 *   TEST_DATABASE_URL  (test mode) a server to use instead of anything local
 *   DATABASE_URL       a server to use; the database part of the URL is ignored here
 *   SHOP_DB_PROBE_URL  the address probed for an already running server
 *                      (default mysql://root@127.0.0.1:3306); point it at a closed port to
 *                      simulate a machine without a local server
 *   DEV_DB_PORT        port of the persistent dev server started from .data/mysql (default 3307)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { freePort } from './free-port';

const DEFAULT_PROBE_URL = 'mysql://root@127.0.0.1:3306';
const DEFAULT_DEV_PORT = 3307;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const EPHEMERAL_PREFIX = 'shop-mysql-';
const SERVER_BINARIES = ['mariadbd', 'mysqld'];
const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin', '/usr/bin'];

export const INSTALL_HINT = [
  'No MySQL-compatible server was found. Do one of:',
  '  - install MariaDB (it is then started automatically, no service needed):',
  '      Debian/Ubuntu: apt-get install -y mariadb-server',
  '      macOS:         brew install mariadb',
  '  - run `docker compose up` (MySQL 8.4 and the API in containers), or',
  '  - set DATABASE_URL (TEST_DATABASE_URL for tests) to a running server,',
  '      e.g. mysql://root:secret@127.0.0.1:3306/shop',
].join('\n');

/** Thrown when no server binary exists on this machine; its message says what to install. */
export class ServerBinaryNotFoundError extends Error {
  override name = 'ServerBinaryNotFoundError';
  constructor() {
    super(INSTALL_HINT);
  }
}

export interface LocalServer {
  /** mysql://root@127.0.0.1:PORT (no database) */
  url: string;
  stop(): Promise<void>;
}

export interface ResolvedServer {
  /** Server URL without a database part. */
  url: string;
  stop(): Promise<void>;
  /** Human-readable: where the server came from. */
  source: string;
  /** True if this call started the server (stop() then stops it; otherwise stop() does nothing). */
  started: boolean;
}

// ---------------------------------------------------------------------------------------------
// URLs and databases

const DB_NAME = /^[A-Za-z0-9_]+$/;

function assertDatabaseName(name: string): void {
  if (!DB_NAME.test(name)) throw new Error(`Invalid database name ${JSON.stringify(name)}: use [A-Za-z0-9_]+`);
}

function parseMysqlUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`Not a URL: ${redactUrl(url)} (expected mysql://user:password@host:port/database)`);
  }
  if (parsed.protocol !== 'mysql:') {
    throw new Error(`Expected a mysql:// URL, got ${redactUrl(url)}`);
  }
  return parsed;
}

/** The server part of a mysql:// URL (credentials, host, port, query kept; database dropped). */
export function serverUrlOf(url: string): string {
  const parsed = parseMysqlUrl(url);
  parsed.pathname = '';
  return parsed.href;
}

/** The database named in a mysql:// URL, or undefined when it names none. */
export function databaseNameOf(url: string): string | undefined {
  const name = decodeURIComponent(parseMysqlUrl(url).pathname.replace(/^\//, ''));
  return name === '' ? undefined : name;
}

/** The full URL of database `name` on the server at `serverUrl`. */
export function withDatabase(serverUrl: string, name: string): string {
  assertDatabaseName(name);
  const parsed = parseMysqlUrl(serverUrl);
  parsed.pathname = `/${name}`;
  return parsed.href;
}

/** The URL with its password replaced by ***, for printing. */
export function redactUrl(url: string): string {
  return url.replace(/^(mysql:\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

/** Connects once and returns the error, or undefined if the server answered a query. */
async function probe(url: string, timeoutMs: number): Promise<Error | undefined> {
  const timer = new Promise<Error>((done) => {
    setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref();
  });
  const attempt = (async (): Promise<Error | undefined> => {
    try {
      const conn = await createConnection({ uri: serverUrlOf(url), connectTimeout: timeoutMs });
      try {
        await conn.query('SELECT 1');
      } finally {
        // destroy(), not end(): nothing to flush, and end() can hang on a half-dead server.
        conn.destroy();
      }
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  })();
  return Promise.race([attempt, timer]);
}

/** True if a MySQL server at `url` accepts the credentials and answers `SELECT 1`. */
export async function canConnect(url: string, timeoutMs = 2_000): Promise<boolean> {
  return (await probe(url, timeoutMs)) === undefined;
}

async function withConnection<T>(serverUrl: string, fn: (query: QueryFn) => Promise<T>): Promise<T> {
  const conn = await createConnection({ uri: serverUrlOf(serverUrl), connectTimeout: 10_000 });
  try {
    return await fn(async (sql, params = []) => {
      const [rows] = await conn.query(sql, params);
      return rows;
    });
  } finally {
    await conn.end();
  }
}
type QueryFn = (sql: string, params?: unknown[]) => Promise<unknown>;

/** Creates database `name` (utf8mb4) unless it exists. Returns true if it was created. */
export async function createDatabase(serverUrl: string, name: string): Promise<boolean> {
  assertDatabaseName(name);
  return withConnection(serverUrl, async (query) => {
    const rows = await query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
    if (Array.isArray(rows) && rows.length > 0) return false;
    await query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    return true;
  });
}

/** Drops database `name` if it exists. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  assertDatabaseName(name);
  await withConnection(serverUrl, async (query) => {
    await query(`DROP DATABASE IF EXISTS \`${name}\``);
  });
}

/**
 * Drops the databases named `<prefix><epoch ms>_…` that are older than `olderThanMs`: those a killed
 * run left on a shared server. A day by default, so a run going on in parallel is never touched.
 */
export async function dropStaleDatabases(
  serverUrl: string,
  prefix: string,
  olderThanMs = 24 * 60 * 60 * 1000,
): Promise<string[]> {
  const rows = await withConnection(serverUrl, (query) =>
    query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [`${prefix}%`]),
  );
  const cutoff = Date.now() - olderThanMs;
  const dropped: string[] = [];
  for (const { name } of rows as Array<{ name: string }>) {
    const created = Number(name.slice(prefix.length).split('_')[0]);
    if (!Number.isInteger(created) || created >= cutoff) continue;
    await dropDatabase(serverUrl, name);
    dropped.push(name);
  }
  return dropped;
}

// ---------------------------------------------------------------------------------------------
// Finding binaries

function findExecutable(names: string[], extraDirs: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not in this directory; keep looking
      }
    }
  }
  return undefined;
}

interface ServerBinary {
  path: string;
  flavor: 'mariadb' | 'mysql';
}

/** True if mariadbd or mysqld is installed, i.e. startLocalServer can work here. */
export function hasServerBinary(): boolean {
  return findExecutable(SERVER_BINARIES, EXTRA_BIN_DIRS) !== undefined;
}

function findServerBinary(): ServerBinary | undefined {
  const path = findExecutable(SERVER_BINARIES, EXTRA_BIN_DIRS);
  if (path === undefined) return undefined;
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' });
  const flavor = /mariadb/i.test(`${version.stdout}${version.stderr}`) ? 'mariadb' : 'mysql';
  return { path, flavor };
}

// ---------------------------------------------------------------------------------------------
// Users and permissions (when running as root the server runs as `mysql`)

interface RunAs {
  /** value for --user; undefined when not running as root */
  user: string | undefined;
  uid?: number;
  gid?: number;
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  if (!existsSync('/etc/passwd')) return undefined;
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** Can `uid`/`gid` reach `dir`, i.e. search (x) every ancestor directory? */
function traversable(dir: string, uid: number, gid: number): boolean {
  for (let current = dirname(resolve(dir)); ; current = dirname(current)) {
    const st = statSync(current);
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    if (dirname(current) === current) return true;
  }
}

function chooseRunAs(dataDir: string): RunAs {
  if (process.getuid?.() !== 0) return { user: undefined };
  const mysql = lookupUser('mysql');
  // mysqld refuses to run as root unless told to; `--user=root` is the fallback when there is no
  // mysql user or it could not reach the datadir (e.g. a repo under a 0700 home directory).
  if (mysql === undefined || !traversable(dataDir, mysql.uid, mysql.gid)) return { user: 'root' };
  return { user: 'mysql', uid: mysql.uid, gid: mysql.gid };
}

function chownRecursive(dir: string, runAs: RunAs): void {
  if (runAs.uid === undefined || runAs.gid === undefined) return;
  const result = spawnSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`chown -R mysql ${dir} failed: ${result.stderr}`);
}

// ---------------------------------------------------------------------------------------------
// Starting and stopping

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

async function initialiseDataDir(
  binary: ServerBinary,
  dataDir: string,
  runAs: RunAs,
  innodbArgs: string[],
): Promise<void> {
  const userArgs = runAs.user !== undefined ? [`--user=${runAs.user}`] : [];
  let command: string;
  let args: string[];
  if (binary.flavor === 'mariadb') {
    const installDb = findExecutable(
      ['mariadb-install-db', 'mysql_install_db'],
      [dirname(binary.path), '/usr/bin', '/usr/local/bin', '/usr/local/mysql/scripts'],
    );
    if (installDb === undefined) throw new Error(`Found ${binary.path} but not mariadb-install-db next to it`);
    // Flags appeared over time (10.4 added the auth method); pass only the ones this version knows.
    const help = spawnSync(installDb, ['--help'], { encoding: 'utf8' }).stdout ?? '';
    const optional = ['--auth-root-authentication-method=normal', '--skip-test-db'].filter((flag) =>
      help.includes(flag.split('=')[0] ?? flag),
    );
    command = installDb;
    args = ['--no-defaults', `--datadir=${dataDir}`, ...optional, ...userArgs, ...innodbArgs];
  } else {
    command = binary.path;
    args = ['--no-defaults', '--initialize-insecure', `--datadir=${dataDir}`, ...userArgs];
  }
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: START_TIMEOUT_MS });
  if (result.status !== 0) {
    throw new Error(
      `Initialising ${dataDir} failed (${command} ${args.join(' ')}):\n${result.stdout ?? ''}${result.stderr ?? ''}`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes ephemeral servers left behind by processes that died without cleaning up (SIGKILL,
 * a crashed test run). Each ephemeral directory records the pid of the process that owns it.
 */
async function sweepAbandoned(): Promise<void> {
  const base = tmpdir();
  for (const entry of await readdir(base)) {
    if (!entry.startsWith(EPHEMERAL_PREFIX)) continue;
    const dir = join(base, entry);
    const owner = Number((await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    const serverPid = Number((await readFile(join(dir, 'data', 'mysqld.pid'), 'utf8').catch(() => '')).trim());
    // Only kill the pid if it still is the server of this directory (pids get reused).
    const cmdline = await readFile(`/proc/${serverPid}/cmdline`, 'utf8').catch(() => '');
    if (serverPid > 0 && cmdline.includes(dir)) process.kill(serverPid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

/**
 * Starts mariadbd/mysqld on 127.0.0.1 with `dataDir` (initialised if empty); root logs in over
 * TCP without a password. port 0/undefined picks a free port.
 * Ephemeral servers are deleted by stop(); with dataDir '' they get a fresh directory under the
 * system temp dir (reachable by the mysql user, and swept up later if this process is killed).
 */
export async function startLocalServer(opts: {
  dataDir: string;
  port?: number;
  ephemeral: boolean;
}): Promise<LocalServer> {
  const binary = findServerBinary();
  if (binary === undefined) throw new ServerBinaryNotFoundError();

  // Ephemeral: <tmp>/shop-mysql-XXXX/{owner.pid,data/}. /tmp is world-traversable, so the mysql
  // user reaches data/ whatever opts.dataDir's parents allow.
  let ownDir: string | undefined;
  let dataDir = resolve(opts.dataDir);
  if (opts.ephemeral && opts.dataDir === '') {
    await sweepAbandoned();
    ownDir = await mkdtemp(join(tmpdir(), EPHEMERAL_PREFIX));
    await chmod(ownDir, 0o711);
    await writeFile(join(ownDir, 'owner.pid'), `${process.pid}\n`);
    dataDir = join(ownDir, 'data');
  }
  // What stop() deletes: the whole temp directory, or the caller's datadir if ephemeral.
  const removeOnStop = ownDir ?? (opts.ephemeral ? dataDir : undefined);
  const cleanup = async (): Promise<void> => {
    if (removeOnStop !== undefined) await rm(removeOnStop, { recursive: true, force: true });
  };
  // A throwaway server trades durability and size for speed: nothing in it must survive a crash.
  // (The redo log size must be the same at initialisation and start, or the server resizes it.)
  const innodbArgs = opts.ephemeral
    ? [
        ...(binary.flavor === 'mariadb' ? ['--innodb-log-file-size=16M'] : []),
        '--innodb-flush-log-at-trx-commit=0',
        '--innodb-doublewrite=OFF',
      ]
    : [];

  try {
    await mkdir(dataDir, { recursive: true });
    const runAs = chooseRunAs(dataDir);
    chownRecursive(dataDir, runAs);
    if (await isEmptyDir(dataDir)) await initialiseDataDir(binary, dataDir, runAs, innodbArgs);

    const port = opts.port !== undefined && opts.port > 0 ? opts.port : await freePort();
    const errorLog = join(dataDir, 'error.log');
    // Unix socket paths are limited to ~107 bytes; a deep repo path would overflow it.
    const inDataDir = join(dataDir, 'mysqld.sock');
    const socket = inDataDir.length < 100 ? inDataDir : join(tmpdir(), `shop-mysqld-${port}.sock`);
    const args = [
      '--no-defaults', // must come first; ignore /etc/mysql/my.cnf and ~/.my.cnf
      `--datadir=${dataDir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--pid-file=${join(dataDir, 'mysqld.pid')}`,
      `--log-error=${errorLog}`,
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      '--default-time-zone=+00:00',
      '--skip-log-bin',
      '--max-connections=500',
      ...(runAs.user !== undefined ? [`--user=${runAs.user}`] : []),
      ...(binary.flavor === 'mysql' ? ['--mysqlx=OFF'] : []),
      ...innodbArgs,
    ];
    // Own process group, so a Ctrl-C in the terminal reaches us and not the server: we then
    // stop it in order (after the API that uses it).
    const child = spawn(binary.path, args, { stdio: 'ignore', detached: true });
    child.unref(); // never keeps the parent alive on its own; stop() holds it while waiting
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });

    // If the parent exits without calling stop(), do not leave the server behind.
    const onExit = (): void => {
      if (opts.ephemeral) {
        child.kill('SIGKILL');
        if (removeOnStop !== undefined) rmSync(removeOnStop, { recursive: true, force: true });
      } else {
        child.kill('SIGTERM'); // clean shutdown; the persistent data stays consistent
      }
    };
    process.once('exit', onExit);

    const url = `mysql://root@127.0.0.1:${port}`;
    const stop = async (): Promise<void> => {
      process.removeListener('exit', onExit);
      child.ref();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5_000);
        }
      }
      await cleanup();
    };

    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError: Error | undefined;
    for (;;) {
      if (spawnError !== undefined) {
        await stop();
        throw new Error(`Could not run ${binary.path}: ${spawnError.message}`);
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        const reason = child.exitCode !== null ? `exit code ${child.exitCode}` : `signal ${child.signalCode}`;
        await stop();
        throw new Error(`${binary.path} stopped during start-up (${reason}). Its log:\n${tail(errorLog)}`);
      }
      lastError = await probe(url, 1_000);
      if (lastError === undefined) return { url, stop };
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `${binary.path} did not accept connections on port ${port} within ${START_TIMEOUT_MS / 1000} s ` +
            `(last error: ${lastError.message}). Its log:\n${tail(errorLog)}`,
        );
      }
      await new Promise((done) => setTimeout(done, 100));
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Resolution: which server do dev and tests use?

/** The nearest directory at or above the working directory that holds package.json. */
export function repoRoot(): string {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

const noop = async (): Promise<void> => {};

function envValue(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Port of the persistent dev server (DEV_DB_PORT, default 3307). */
export function devServerPort(): number {
  const raw = envValue('DEV_DB_PORT');
  const port = raw === undefined ? DEFAULT_DEV_PORT : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`DEV_DB_PORT must be a port number, got ${raw}`);
  }
  return port;
}

/**
 * Finds the server for `mode`, in this order:
 *   1. TEST_DATABASE_URL (test mode only), then DATABASE_URL: used as given (database part dropped);
 *   2. a server answering as root without password at SHOP_DB_PROBE_URL (default 127.0.0.1:3306);
 *   3. dev: the persistent server in .data/mysql on DEV_DB_PORT (3307), reused if already running;
 *      test: a throwaway server in a temp directory on a free port;
 *   4. otherwise a ServerBinaryNotFoundError saying what to install.
 * With `start: false`, step 3 only reuses a running dev server and never starts one.
 * stop() stops only a server this call started.
 */
export async function resolveServer(mode: 'dev' | 'test', options: { start?: boolean } = {}): Promise<ResolvedServer> {
  const envNames = mode === 'test' ? ['TEST_DATABASE_URL', 'DATABASE_URL'] : ['DATABASE_URL'];
  for (const name of envNames) {
    const value = envValue(name);
    if (value === undefined) continue;
    const url = serverUrlOf(value);
    const error = await probe(url, 5_000);
    if (error !== undefined) {
      throw new Error(`${name} points at ${redactUrl(url)}, but connecting failed: ${error.message}`);
    }
    return { url, started: false, stop: noop, source: name };
  }

  const probeUrl = serverUrlOf(envValue('SHOP_DB_PROBE_URL') ?? DEFAULT_PROBE_URL);
  if (await canConnect(probeUrl, 1_500)) {
    const source = `the server already running at ${redactUrl(probeUrl)}`;
    return { url: probeUrl, started: false, stop: noop, source };
  }

  if (mode === 'dev') {
    const port = devServerPort();
    const url = `mysql://root@127.0.0.1:${port}`;
    if (await canConnect(url, 1_500)) {
      return { url, started: false, stop: noop, source: `the dev server already running on port ${port}` };
    }
    if (options.start === false) {
      throw new Error(
        `No database server found: nothing answers at ${redactUrl(probeUrl)} or ${url} (the dev server ` +
          'that `npm run dev` starts). Start `npm run dev`, or set ' +
          'DATABASE_URL=mysql://user:password@host:port/shop.',
      );
    }
    const dataDir = join(repoRoot(), '.data', 'mysql');
    const server = await startLocalServer({ dataDir, port, ephemeral: false });
    return { ...server, started: true, source: `the dev server started from .data/mysql on port ${port}` };
  }

  if (options.start === false) {
    throw new Error(`No database server answers at ${redactUrl(probeUrl)}; set TEST_DATABASE_URL.`);
  }
  const server = await startLocalServer({ dataDir: '', ephemeral: true });
  return { ...server, started: true, source: `a throwaway server at ${server.url}` };
}
