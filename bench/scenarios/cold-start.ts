/**
 * Cold start: package every function exactly as a deploy would (`osls package`, serverless-esbuild
 * as configured in serverless.yml), then for each zip its size, and the time to initialise its
 * module (require() of the handler file) in a fresh `node` process: the part of a Lambda cold
 * start that the code controls. Several fresh processes per function; the median counts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipTo } from '../lib/unzip';

export interface FunctionColdStart {
  name: string;
  zip_kb: number;
  /** Unzipped size of the handler file. */
  bundle_kb: number;
  /** Median wall-clock time of require() over the runs: the figure held to the target. */
  init_ms: number;
  /** Fastest run, and the median CPU time: less sensitive to other load on a shared machine. */
  init_min_ms: number;
  init_cpu_ms: number;
  init_runs_ms: number[];
}

export interface ColdStartResult {
  functions: FunctionColdStart[];
  bundle_zip_kb_max: number;
  init_ms_max: number;
  package_s: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

// Measured inside the child, around require() only (Node's own start-up is not the code's cost).
const INIT_PROBE = `
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const mod = require(process.argv[1]);
const t1 = process.hrtime.bigint();
const c = process.cpuUsage(c0);
if (typeof mod[process.argv[2]] !== 'function') { console.error('no export ' + process.argv[2]); process.exit(2); }
process.stdout.write(JSON.stringify({ wall: Number(t1 - t0) / 1e6, cpu: (c.user + c.system) / 1000 }));
`;

interface InitRun {
  wall: number;
  cpu: number;
}

function initOnce(file: string, exportName: string, env: NodeJS.ProcessEnv): Promise<InitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', INIT_PROBE, file, exportName], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let run: InitRun | undefined;
      try {
        run = JSON.parse(out) as InitRun;
      } catch {
        run = undefined;
      }
      if (code === 0 && run && Number.isFinite(run.wall)) resolve(run);
      else reject(new Error(`init probe for ${file} failed (exit ${code}): ${err.trim().slice(0, 400)}`));
    });
  });
}

interface PackagedFunction {
  handler: string;
  environment?: Record<string, unknown>;
}

export async function runColdStart(options: {
  repoRoot: string;
  runs: number;
  log: (line: string) => void;
}): Promise<ColdStartResult> {
  const work = mkdtempSync(join(tmpdir(), 'shop-bench-package-'));
  try {
    const pkgDir = join(work, 'package');
    const t0 = Date.now();
    const osls = join(options.repoRoot, 'node_modules', '.bin', 'osls');
    const res = spawnSync(osls, ['package', '--stage', 'dev', '--package', pkgDir], {
      cwd: options.repoRoot,
      encoding: 'utf8',
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      timeout: 300_000,
    });
    if (res.status !== 0) {
      throw new Error(
        `osls package failed (exit ${res.status}):\n${`${res.stdout}\n${res.stderr}`.trim().slice(-2_000)}`,
      );
    }
    const packageS = (Date.now() - t0) / 1000;
    options.log(`packaged in ${packageS.toFixed(1)} s`);
    const state = JSON.parse(readFileSync(join(pkgDir, 'serverless-state.json'), 'utf8')) as {
      service: { functions: Record<string, PackagedFunction>; provider?: { environment?: Record<string, unknown> } };
    };
    // As deployed: the node options of the function's environment (e.g. --enable-source-maps, which
    // reads and parses the bundle's source map while the module loads) apply to its init too.
    const nodeOptionsOf = (fn: PackagedFunction): string | undefined => {
      const v = fn.environment?.NODE_OPTIONS ?? state.service.provider?.environment?.NODE_OPTIONS;
      return typeof v === 'string' && v.trim() !== '' ? v : undefined;
    };
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      STAGE: 'dev',
      DATABASE_URL: 'mysql://root@127.0.0.1:3306/shop',
      LOG_LEVEL: 'silent',
    };
    const functions: FunctionColdStart[] = [];
    const zips = new Set(readdirSync(pkgDir).filter((f) => f.endsWith('.zip')));
    for (const [name, fn] of Object.entries(state.service.functions)) {
      const zip = `${name}.zip`;
      if (!zips.has(zip)) throw new Error(`no ${zip} in the package (package.individually must stay on)`);
      const dir = join(work, 'unzipped', name);
      unzipTo(join(pkgDir, zip), dir);
      const dot = fn.handler.lastIndexOf('.');
      const file = join(dir, `${fn.handler.slice(0, dot)}.js`);
      const exportName = fn.handler.slice(dot + 1);
      const runs: InitRun[] = [];
      const nodeOptions = nodeOptionsOf(fn);
      const fnEnv = nodeOptions ? { ...env, NODE_OPTIONS: nodeOptions } : env;
      for (let i = 0; i < options.runs; i++) runs.push(await initOnce(file, exportName, fnEnv));
      const walls = runs.map((r) => r.wall);
      functions.push({
        name,
        zip_kb: statSync(join(pkgDir, zip)).size / 1024,
        bundle_kb: statSync(file).size / 1024,
        init_ms: median(walls),
        init_min_ms: Math.min(...walls),
        init_cpu_ms: median(runs.map((r) => r.cpu)),
        init_runs_ms: walls.map((w) => Math.round(w * 10) / 10),
      });
    }
    return {
      functions,
      bundle_zip_kb_max: Math.max(...functions.map((f) => f.zip_kb)),
      init_ms_max: Math.max(...functions.map((f) => f.init_ms)),
      package_s: packageS,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
