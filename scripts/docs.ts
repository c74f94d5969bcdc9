// Regenerates what the docs derive from the code: docs/openapi.json, the README's endpoint table and
// the error table of docs/api.md.
//   npm run docs               write them
//   npm run docs -- --check    change nothing; exit 1 naming each file that is out of date
import { regenerate } from './lib/generated-docs';

const check = process.argv.includes('--check');
const stale = regenerate(check);
if (stale.length === 0) console.log('generated docs are up to date');
else if (check) {
  console.error(`out of date (run \`npm run docs\`): ${stale.join(', ')}`);
  process.exit(1);
} else console.log(`wrote ${stale.join(', ')}`);
