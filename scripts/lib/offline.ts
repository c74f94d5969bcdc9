import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePorts } from './free-port';

/**
 * serverless-offline for end-to-end tests and the benchmark: the real serverless.yml, the real esbuild bundles, on
 * free HTTP and lambda ports (two instances on the default lambdaPort 3002 collide).
 */
export interface Offline {
  baseUrl: string;
  output: () => string;
  stop: () => Promise<void>;
}

export interface OfflineOptions {
  databaseUrl: string;
  env?: Record<string, string>;
  /** Extra CLI flags, e.g. ['--useInProcess']. */
  flags?: string[];
  /** Flags for the Node.js process that runs serverless-offline (before the script), e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /**
   * Where the handlers' stdout (their JSON log lines and EMF metrics) goes: kept (the tail, in
   * `output()`) by default; 'ignore' sends it to /dev/null, as the benchmark's in-process reference
   * drops it (bench/lib/stdout.ts). serverless-offline's own lines are on stderr, always kept.
   */
  stdout?: 'pipe' | 'ignore';
}

export async function startOffline(opts: OfflineOptions): Promise<Offline> {
  const root = join(__dirname, '..', '..');
  // Two distinct ports (two freePort calls in a row can get the same one).
  const [httpPort, lambdaPort] = await freePorts(2);
  // Only the tail is kept: a long benchmark run would otherwise hold every log line in memory.
  let log = '';
  let ready = false;
  const append = (d: Buffer): void => {
    const text = d.toString();
    ready ||= (log.slice(-20) + text).includes('Server ready');
    log = (log + text).slice(-16_000);
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      join(root, 'node_modules', 'osls', 'bin', 'serverless.js'),
      'offline',
      'start',
      '--httpPort',
      String(httpPort),
      '--lambdaPort',
      String(lambdaPort),
      ...(opts.flags ?? []),
    ],
    {
      cwd: root,
      env: { ...process.env, DATABASE_URL: opts.databaseUrl, LOG_LEVEL: 'silent', ...opts.env },
      stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'],
      detached: true,
    },
  );
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  while (!ready) {
    if (child.exitCode !== null) throw new Error(`serverless-offline exited (${child.exitCode}):\n${log}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`serverless-offline did not become ready:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { baseUrl: `http://127.0.0.1:${httpPort}`, output: () => log, stop };
}
