import { HTTP_ERRORS } from '../http/problem';

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/**
 * The error codes as a Markdown table, straight from HTTP_ERRORS: docs/api.md's table (checked
 * by a test) and the OpenAPI document's description both come from here.
 */
export function errorTableMarkdown(): string {
  const rows = Object.entries(HTTP_ERRORS).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${cell(e.title)} | ${cell(e.when)} |`,
  );
  return ['| Code | Status | Title | When |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
