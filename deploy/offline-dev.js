/**
 * serverless-offline's per-request cost, cut where it buys a local developer nothing. Runs only on
 * `offline start` (npm run dev, the e2e tests, the benchmark); packaging and deploys never see it.
 *
 * - Its per-request lines go once it is serving: serverless-offline prints three notice lines for
 *   every request (a blank line twice and `GET /products (λ: listProducts)`) and a fourth when the
 *   handler returns (`RequestId … Duration …`), each through the Serverless log writer and a
 *   synchronous write to the terminal or pipe. Each handler already logs one JSON line per request
 *   (request id, route, path, status, duration, function name: lib/observability/middleware.ts),
 *   which is the line CloudWatch gets in production. Only serverless-offline's notice level is
 *   switched off, and only after `Server ready` and the route table are printed: its warnings and
 *   errors (an unhandled exception, `[504] - Lambda timeout.`) still print. `OFFLINE_REQUEST_LOG=1`
 *   keeps the lines.
 * - With `--useInProcess`, serverless-offline asks on every request whether the handler's module is
 *   an ES module: from the bundle's folder it walks up to the first package.json and reads and
 *   parses it (here the repository's own, five folders up), one `access` call per folder. A
 *   `{"type": "commonjs"}` package.json in each bundle folder (inside this process's build folder,
 *   `.esbuild/<instance id>`, removed at exit by deploy/build-folders.js) ends the walk at once with
 *   the answer it reaches anyway: the bundles are CommonJS (custom.esbuild.format).
 */
const fs = require('node:fs');
const path = require('node:path');

class OfflineDev {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:offline:start:init': () => this.markBuildFolder(),
      'before:offline:start': () => this.markBuildFolder(),
      'after:offline:start:init': () => this.quietRequestLines(),
    };
  }

  /** After serverless-esbuild has bundled (its hook runs first) and set serverless-offline's location. */
  markBuildFolder() {
    const location = this.serverless.service.custom?.['serverless-offline']?.location;
    // Only inside a build folder of our own: never a package.json among the sources.
    if (typeof location !== 'string' || !location.startsWith('.esbuild/')) return;
    const serviceDir = this.serverless.serviceDir || this.serverless.config.servicePath;
    const build = path.resolve(serviceDir, location);
    const folders = new Set();
    for (const name of this.serverless.service.getAllFunctions()) {
      const { handler } = this.serverless.service.getFunction(name);
      if (typeof handler === 'string') folders.add(path.dirname(path.join(build, handler)));
    }
    for (const folder of folders) {
      const file = path.join(folder, 'package.json');
      if (folder.startsWith(build) && fs.existsSync(folder) && !fs.existsSync(file)) {
        fs.writeFileSync(file, '{"type": "commonjs"}\n');
      }
    }
  }

  quietRequestLines() {
    if (process.env.OFFLINE_REQUEST_LOG === '1') return;
    // The writer osls hands serverless-offline (memoised per plugin name): its notice level.
    const { getPluginWriters } = require('osls/lib/utils/serverless-utils/log');
    getPluginWriters('serverless-offline').log.disable();
  }
}

module.exports = OfflineDev;
