/**
 * The serverless-offline settings of `npm run dev` (and so of the compose stack, which runs it),
 * in one place: scripts/dev.ts passes them, and the benchmark's HTTP rows run with exactly these.
 *
 * `--useInProcess`: every function's handler runs in the serverless-offline process instead of in
 * a worker thread per concurrent request. What stays: each function is its own esbuild bundle, so
 * each keeps its own module state, config and pool, as separate Lambda functions do, and the
 * provider environment is the same for every function. What goes: a second concurrent request to
 * the same function shares its module instance (and pool) instead of getting a fresh instance, as a
 * new Lambda instance would, and an edit needs a restart of `npm run dev` (a loaded module is not
 * reloaded; worker threads picked it up only in new instances anyway). Worth it: per request the
 * worker mode pays a worker thread per concurrent request (module load, JIT, pool) and messaging to
 * it, about 2× the in-process cost (docs/performance.md). Set DEV_OFFLINE_WORKERS=1 for the worker
 * threads when that isolation is what you are testing.
 *
 * The rest of what makes local HTTP cheap is not a flag: deploy/offline-dev.js (a plugin in
 * serverless.yml, so every `offline start` has it) drops serverless-offline's own lines per request
 * and ends its per-request package.json walk; docs/development.md lists the choices and their costs.
 */
export function devOfflineFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.DEV_OFFLINE_WORKERS === '1' ? [] : ['--useInProcess'];
}
