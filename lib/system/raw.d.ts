// `import text from 'pkg/file?raw'`: the file's contents as a string. Vite (tests) does this natively;
// the Lambda bundles get it from the esbuild plugin in esbuild-plugins.js.
declare module '*?raw' {
  const content: string;
  export default content;
}
