// serverless.yml `functions: ${file(./deploy/functions.js)}`: the functions made from the route
// declarations (deploy/serverless-functions.ts), which are TypeScript: tsx loads them at package time.
const { require: requireTs } = require('tsx/cjs/api');

module.exports = () => requireTs('./serverless-functions.ts', __filename).serverlessFunctions();
