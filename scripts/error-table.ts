// Prints the error code table (Markdown) generated from HTTP_ERRORS (lib/http/problem.ts); docs/api.md
// holds the same table, kept equal by `npm run docs`.
import { errorTableMarkdown } from '../lib/openapi/error-table';

console.log(errorTableMarkdown());
