/**
 * serverless-offline's per-request cost, cut where it buys a local developer nothing. Runs only on
 * `offline start` (npm run dev, the e2e tests, the benchmark); packaging and deploys never see it.
 * Nothing here changes what a handler receives or returns: the same event, context, environment and
 * timeout; docs/development.md (serverless-offline settings) has the measurements.
 *
 * - Its per-request lines go once it is serving: serverless-offline prints three notice lines for
 *   every request (a blank line twice and `GET /products (λ: listProducts)`) and a fourth when the
 *   handler returns (`RequestId … Duration …`), each through the Serverless log writer and a
 *   synchronous write to the terminal or pipe. Each handler already logs one JSON line per request
 *   (request id, route, path, status, duration, function name: lib/observability/middleware.ts),
 *   which is the line CloudWatch gets in production. Only serverless-offline's notice level is
 *   switched off, and only after `Server ready` and the route table are printed: its warnings and
 *   errors (an unhandled exception, `[504] - Lambda timeout.`) still print. A switched-off level
 *   still builds and emits an event for every call (about ten notice and debug calls per request), so
 *   the switched-off levels are replaced by a function that does nothing; debug stays live when
 *   `--verbose`/`--debug` turned it on. `OFFLINE_REQUEST_LOG=1` keeps the lines.
 * - With `--useInProcess`, serverless-offline looks the handler's module up again on every request
 *   (aws-lambda-ric's UserFunction.load): it tries the path without an extension first, then asks
 *   whether the folder's package.json says `"type": "module"` (from the bundle's folder it walks up to
 *   the first package.json and reads and parses it, one `access` call per folder), then tries `.js`
 *   and requires it (a require-cache hit). In each bundle folder, inside this process's build folder
 *   (`.esbuild/<instance id>`, removed at exit by deploy/build-folders.js), two small files end that
 *   search at its first step or give the answer it reaches anyway:
 *   - a `{"type": "commonjs"}` package.json (the bundles are CommonJS: custom.esbuild.format), for
 *     the walk;
 *   - a symbolic link without the extension (`list-products` → `list-products.js`), found by the
 *     first `exists` call: one `access` call and a require-cache hit per request instead of five
 *     `access` calls, a package.json read and parse and a require. The module is the same file
 *     (require resolves the link to `list-products.js`, its real path), loaded once.
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
    // Only inside a build folder of our own: never a file among the sources.
    if (typeof location !== 'string' || !location.startsWith('.esbuild/')) return;
    const serviceDir = this.serverless.serviceDir || this.serverless.config.servicePath;
    const build = path.resolve(serviceDir, location);
    const bundles = new Set();
    for (const name of this.serverless.service.getAllFunctions()) {
      const { handler } = this.serverless.service.getFunction(name);
      // `.build/functions/products/list-products.handler`: the module is all but the last part.
      if (typeof handler === 'string') bundles.add(path.join(build, handler.slice(0, handler.lastIndexOf('.'))));
    }
    for (const bundle of bundles) {
      const folder = path.dirname(bundle);
      if (!bundle.startsWith(build + path.sep) || !fs.existsSync(`${bundle}.js`)) continue;
      const packageJson = path.join(folder, 'package.json');
      if (!fs.existsSync(packageJson)) fs.writeFileSync(packageJson, '{"type": "commonjs"}\n');
      if (process.platform !== 'win32' && !fs.existsSync(bundle)) fs.symlinkSync(`${path.basename(bundle)}.js`, bundle);
    }
  }

  quietRequestLines() {
    if (process.env.OFFLINE_REQUEST_LOG === '1') return;
    // The writer osls hands serverless-offline (memoised per plugin name), at its notice level;
    // serverless-offline calls `.notice(…)` and `.debug(…)` on it (src/utils/log.js).
    const { getPluginWriters } = require('osls/lib/utils/serverless-utils/log');
    const writer = getPluginWriters('serverless-offline').log;
    writer.disable();
    const nothing = () => {};
    for (const level of ['notice', 'debug']) {
      if (!writer[level].isEnabled) Object.defineProperty(writer, level, { value: nothing, configurable: true });
    }
  }
}

module.exports = OfflineDev;
