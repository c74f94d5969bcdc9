// Prints the error code table (Markdown) generated from HTTP_ERRORS (lib/http/problem.ts), for the README:
//   npx tsx scripts/error-table.ts
import { errorTableMarkdown } from '../lib/openapi/error-table';

console.log(errorTableMarkdown());
