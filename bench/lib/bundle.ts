/**
 * The code under test as it is deployed: esbuild bundles made with serverless.yml's own
 * `custom.esbuild` settings (read from the file, so the two cannot drift), loaded in this process.
 *
 * Why not the TypeScript sources, as the tests load them: tsx compiles each file on its own, so
 * every import becomes a getter call and every named closure a defineProperty (`keepNames`), none of
 * which a deployed bundle has (serverless.yml: `keepNames: false`, one bundle per function).
 * Measured side by side (bench/client-cpu.ts, hot orders against recorded answers): the same
 * handler cost 94 µs of client CPU per order from the sources and 84 µs as a bundle.
 *
 * Two differences from a deploy bundle, both for the benchmark's bookkeeping: mysql2 stays outside
 * the bundle (required from node_modules, so that bench/lib/statements.ts, which patches mysql2,
 * sees its statements), and an entry may export more than a handler (e.g. the function that points
 * its pool at a database).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { load } from 'js-yaml';

interface ServerlessEsbuild {
  minify?: boolean;
  target?: string;
  platform?: 'node';
  format?: 'cjs' | 'esm';
  exclude?: string[];
  keepNames?: boolean;
  plugins?: string;
}

/** esbuild options of serverless.yml's `custom.esbuild`, for a bundle the benchmark loads. */
export function deployBuildOptions(repoRoot: string): BuildOptions {
  const doc = load(readFileSync(join(repoRoot, 'serverless.yml'), 'utf8')) as {
    custom?: { esbuild?: ServerlessEsbuild };
  };
  const e = doc.custom?.esbuild;
  if (!e) throw new Error('serverless.yml has no custom.esbuild');
  const plugins = e.plugins ? (require(join(repoRoot, e.plugins)) as Plugin[]) : [];
  return {
    bundle: true,
    minify: e.minify ?? false,
    target: e.target,
    platform: e.platform ?? 'node',
    format: e.format ?? 'cjs',
    keepNames: e.keepNames ?? false,
    external: [...(e.exclude ?? []), 'mysql2'],
    plugins,
    logLevel: 'error',
  };
}

/**
 * Bundles `entry` (a path under the repository) into `.bench-build/` of the repository (so that
 * mysql2 resolves to the repository's node_modules) and loads it: a fresh module instance per call,
 * with its own pool and configuration. `overrides` change serverless.yml's options (e.g.
 * `minify: false`, so that a profile names the functions).
 */
export async function loadBundle<T>(
  repoRoot: string,
  entry: string,
  name: string,
  overrides: BuildOptions = {},
): Promise<T> {
  const dir = join(repoRoot, '.bench-build');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `${name}-${process.pid}-${Date.now()}.js`);
  try {
    await build({ ...deployBuildOptions(repoRoot), ...overrides, entryPoints: [join(repoRoot, entry)], outfile });
    return require(outfile) as T;
  } finally {
    rmSync(outfile, { force: true }); // loaded: the module stays in memory
  }
}
