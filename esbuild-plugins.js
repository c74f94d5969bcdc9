// esbuild plugins for serverless-esbuild (custom.esbuild.plugins in serverless.yml).
// `import text from 'pkg/file?raw'` bundles the file's contents as a string, as Vite does in the
// tests: the docs page's Swagger UI assets ship inside the Lambda bundle, read from node_modules.
const { readFile } = require('node:fs/promises');

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

module.exports = [rawImports];
