import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../lib/openapi/document';
import { errorTableMarkdown } from '../../lib/openapi/error-table';
import { BLOCKS, blockIn, OPENAPI_FILE, openApiText, operationsOf, ROOT } from '../../scripts/lib/generated-docs';

/**
 * docs/openapi.json and the generated tables of the docs are what `npm run docs` writes from the code:
 * a change to a route, a schema or an error code that is committed without them fails here.
 */
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

function markdownFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

describe('generated docs', () => {
  it(`${OPENAPI_FILE} is the document the code generates (npm run docs)`, () => {
    expect(read(OPENAPI_FILE)).toBe(openApiText());
  });

  for (const block of BLOCKS) {
    it(`${block.file}'s ${block.name} is generated (npm run docs)`, () => {
      expect(blockIn(read(block.file), block.name)).toBe(block.generate());
    });
  }

  it('docs/api.md has one section per operation of the OpenAPI document, and no other', () => {
    const headings = [...read('docs/api.md').matchAll(/^### `([A-Z]+ \/\S*)`$/gm)].map((m) => m[1]);
    const operations = operationsOf(buildOpenApiDocument()).map((o) => `${o.method} ${o.path}`);
    expect([...headings].sort()).toEqual([...operations].sort());
  });

  it('the error table lists every code once with its status', () => {
    const rows = errorTableMarkdown().split('\n').slice(2);
    expect(rows.map((r) => r.split('|')[1]?.trim())).toEqual(
      expect.arrayContaining(['`insufficient_stock`', '`validation_failed`', '`database_unavailable`']),
    );
    expect(new Set(rows).size).toBe(rows.length);
  });
});

describe('documentation links', () => {
  const files = ['README.md', 'DEPLOY.md', ...markdownFiles('docs'), 'bench/results/README.md'];

  it('every relative link stays inside the repository and points at a file that exists', () => {
    const bad: string[] = [];
    for (const file of files) {
      for (const m of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] ?? '';
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        const path = resolve(ROOT, dirname(file), target.split('#')[0] ?? '');
        if (relative(ROOT, path).startsWith('..')) bad.push(`${file}: ${target} leaves the repository`);
        else if (!existsSync(path)) bad.push(`${file}: ${target} does not exist`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('no absolute link points at anything but a public web page or the local service', () => {
    const bad: string[] = [];
    for (const file of files) {
      for (const m of read(file).matchAll(/\]\(([a-z]+:[^)\s]*)\)|<([a-z]+:[^>\s]*)>/gi)) {
        const url = m[1] ?? m[2] ?? '';
        if (!/^https?:\/\//.test(url)) bad.push(`${file}: ${url}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('speaks to readers of the repository: no issue numbers, no "the issue\'s …"', () => {
    const bad: string[] = [];
    for (const file of files) {
      for (const m of read(file).matchAll(/\bissue(?:'s| \d+)/gi)) bad.push(`${file}: ${m[0]}`);
    }
    expect(bad).toEqual([]);
  });

  it('numbers each decision record once', () => {
    const numbers = readdirSync(join(ROOT, 'docs', 'decisions')).map((f) => f.slice(0, 4));
    expect(numbers.filter((n, i) => numbers.indexOf(n) !== i)).toEqual([]);
  });
});
