import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const biome = join(root, 'node_modules', '.bin', 'biome');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

interface Diagnostic {
  category: string;
  location: { path: string };
}

/** Lints `files` in a scratch project that uses this repository's biome.json. */
function lintProbe(files: Record<string, string>): Diagnostic[] {
  const dir = mkdtempSync(join(tmpdir(), 'biome-probe-'));
  probes.push(dir);
  const config = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8')) as Record<string, unknown>;
  delete config.$schema;
  config.vcs = { enabled: false };
  writeFileSync(join(dir, 'biome.json'), JSON.stringify(config));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const run = spawnSync(biome, ['lint', '--reporter=json', '.'], { cwd: dir, encoding: 'utf8' });
  const report = JSON.parse(run.stdout) as { diagnostics: Diagnostic[] };
  return report.diagnostics;
}
const probes: string[] = [];
afterAll(() => {
  for (const dir of probes) rmSync(dir, { recursive: true, force: true });
});

describe('code health rules', () => {
  it('reads process.env only in lib/config.ts among lib/ and functions/ (and copies it for Powertools)', () => {
    // env-snapshot.ts reads no setting: it hands Powertools a copy of the environment (biome.json too).
    const allowed = [join('lib', 'config.ts'), join('lib', 'observability', 'env-snapshot.ts')];
    const offenders = [...sourceFiles(join(root, 'lib')), ...sourceFiles(join(root, 'functions'))]
      .map((path) => relative(root, path))
      .filter((path) => !allowed.includes(path))
      .filter((path) =>
        /process\s*\.\s*env|process\s*\[\s*['"]env['"]\s*\]/.test(readFileSync(join(root, path), 'utf8')),
      );
    expect(offenders).toEqual([]);
  });

  it('keeps HTTP out of the domain: only lib/http, lib/openapi, lib/system (the docs page), request schemas and route declarations import lib/http', () => {
    const offenders = sourceFiles(join(root, 'lib'))
      .map((path) => relative(root, path).split('\\').join('/'))
      .filter((path) => !/^lib\/(http|openapi|system)\//.test(path) && !/\/(schema|routes)\.ts$/.test(path))
      .filter((path) => /from '[./]*\/http\//.test(readFileSync(join(root, path), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('declares each route path once: one file of the service (lib, functions, deploy, serverless.yml) states it', async () => {
    const { ROUTES } = await import('../../lib/routes');
    // Scripts, the benchmark and tests are clients: they may send requests to a path.
    const sources = ['lib', 'functions', 'deploy']
      .flatMap((dir) => sourceFiles(join(root, dir)))
      .concat(join(root, 'serverless.yml'))
      .map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));
    for (const path of new Set(ROUTES.map((r) => r.path))) {
      // As a declaration states it (`path: '…'` in TS, `path: …` in YAML), not as a client names it.
      const quoted = [`path: '${path}'`, `path: "${path}"`, `path: ${path}\n`];
      const holders = sources.filter((f) => quoted.some((q) => f.text.includes(q))).map((f) => f.path);
      expect({ path, holders }).toEqual({ path, holders: [expect.stringMatching(/^lib\/[a-z]+\/routes\.ts$/)] });
    }
  });

  it('makes Biome reject process.env outside lib/config.ts and any `any` in lib/ and functions/', () => {
    const diagnostics = lintProbe({
      'lib/config.ts': 'export const level = process.env.LOG_LEVEL;\n',
      'lib/orders/service.ts': 'export const key = process.env.ADMIN_API_KEY;\n',
      'functions/orders/get-order.ts': 'export const stage = process.env.STAGE;\n',
      'lib/money.ts': 'export const cents = (x: any): number => Number(x);\n',
      'functions/system/health.ts': 'export const echo = (x: any): string => String(x);\n',
    });
    const found = diagnostics.map((d) => `${d.location.path} ${d.category}`).sort();
    expect(found).toEqual([
      'functions/orders/get-order.ts lint/style/noProcessEnv',
      'functions/system/health.ts lint/suspicious/noExplicitAny',
      'lib/money.ts lint/suspicious/noExplicitAny',
      'lib/orders/service.ts lint/style/noProcessEnv',
    ]);
  });
});
