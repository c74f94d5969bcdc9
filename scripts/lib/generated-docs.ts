import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { oas31 } from 'zod-openapi';
import { buildOpenApiDocument } from '../../lib/openapi/document';
import { errorTableMarkdown } from '../../lib/openapi/error-table';

/**
 * Files and blocks of the docs that are derived from the code. `npm run docs` writes them;
 * tests/unit/generated-docs.test.ts fails when a committed one differs from what the code generates.
 */
export const ROOT = join(__dirname, '..', '..');
export const OPENAPI_FILE = 'docs/openapi.json';

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'] as const;

export interface Operation {
  method: string;
  path: string;
  admin: boolean;
  summary: string;
}

export function operationsOf(doc: oas31.OpenAPIObject): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method];
      if (!op) continue;
      out.push({
        method: method.toUpperCase(),
        path,
        admin: (op.security ?? []).length > 0,
        summary: op.summary ?? '',
      });
    }
  }
  return out;
}

export const openApiText = (): string => `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;

export function apiTableMarkdown(doc: oas31.OpenAPIObject = buildOpenApiDocument()): string {
  const rows = operationsOf(doc).map(
    (o) => `| \`${o.method} ${o.path}\` | ${o.admin ? 'admin' : 'public'} | ${o.summary} |`,
  );
  return ['| route | who | what |', '| --- | --- | --- |', ...rows].join('\n');
}

/** A block of a Markdown file between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export interface Block {
  file: string;
  name: string;
  generate: () => string;
}

export const BLOCKS: Block[] = [
  { file: 'README.md', name: 'api-table', generate: () => apiTableMarkdown() },
  { file: 'docs/api.md', name: 'error-table', generate: errorTableMarkdown },
];

const markers = (name: string) => [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`] as const;

/** The text between a block's markers, trimmed; undefined when the file lacks them. */
export function blockIn(text: string, name: string): string | undefined {
  const [start, end] = markers(name);
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return undefined;
  return text.slice(i + start.length, j).trim();
}

function withBlock(text: string, block: Block): string {
  const [start, end] = markers(block.name);
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${block.file} has no ${start} … ${end} markers`);
  return `${text.slice(0, i + start.length)}\n${block.generate()}\n${text.slice(j)}`;
}

/** Writes every generated file and block (or, with `check`, only reports); returns the files that differed. */
export function regenerate(check: boolean): string[] {
  const stale: string[] = [];
  const wanted = new Map<string, string>([[OPENAPI_FILE, openApiText()]]);
  for (const block of BLOCKS) {
    const current = wanted.get(block.file) ?? readFileSync(join(ROOT, block.file), 'utf8');
    wanted.set(block.file, withBlock(current, block));
  }
  for (const [file, text] of wanted) {
    let current: string | undefined;
    try {
      current = readFileSync(join(ROOT, file), 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    stale.push(file);
    if (!check) writeFileSync(join(ROOT, file), text);
  }
  return stale;
}
