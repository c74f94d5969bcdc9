import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorTableMarkdown } from '../../lib/openapi/error-table';

/**
 * The error table in the README (and in docs/notes/ops.md) is the output of
 * `npm run error-table`, generated from HTTP_ERRORS (lib/http/problem.ts) like the OpenAPI document: it cannot drift.
 */
const root = join(__dirname, '..', '..');
const START = '<!-- error-table:start -->';
const END = '<!-- error-table:end -->';

function tableIn(file: string): string | undefined {
  const path = join(root, file);
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return text.slice(start + START.length, end).trim();
}

describe('error code tables', () => {
  const readme = tableIn('README.md');
  it.skipIf(readme === undefined)(
    `README.md's table equals scripts/error-table.ts output${readme === undefined ? ` (skipped: README.md has no ${START} … ${END} markers)` : ''}`,
    () => {
      expect(readme).toBe(errorTableMarkdown());
    },
  );

  it("docs/notes/ops.md's table equals scripts/error-table.ts output", () => {
    expect(tableIn('docs/notes/ops.md')).toBe(errorTableMarkdown());
  });

  it('lists every code once with its status', () => {
    const rows = errorTableMarkdown().split('\n').slice(2);
    expect(rows.map((r) => r.split('|')[1]?.trim())).toEqual(
      expect.arrayContaining(['`insufficient_stock`', '`validation_failed`', '`database_unavailable`']),
    );
    expect(new Set(rows).size).toBe(rows.length);
  });
});
