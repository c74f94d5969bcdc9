import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDotEnv } from '../../scripts/lib/dotenv';

const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
const names = ['SHOP_DOTENV_TEST_A', 'SHOP_DOTENV_TEST_B', 'SHOP_DOTENV_TEST_C'];

afterAll(() => {
  for (const n of names) delete process.env[n];
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run dev reads .env', () => {
  it('does nothing without a .env file', () => {
    expect(loadDotEnv(dir)).toBeUndefined();
  });

  it('sets what the file says, comments and quotes understood, without overriding the environment', () => {
    writeFileSync(
      join(dir, '.env'),
      '# a comment\nSHOP_DOTENV_TEST_A=from-file\nSHOP_DOTENV_TEST_B="two words"\nSHOP_DOTENV_TEST_C=from-file\n',
    );
    process.env.SHOP_DOTENV_TEST_C = 'from-shell';
    expect(loadDotEnv(dir)).toBe(join(dir, '.env'));
    expect(process.env.SHOP_DOTENV_TEST_A).toBe('from-file');
    expect(process.env.SHOP_DOTENV_TEST_B).toBe('two words');
    expect(process.env.SHOP_DOTENV_TEST_C).toBe('from-shell');
  });

  it('.env.example changes nothing until a line is uncommented, and documents the usual settings', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const settings = example.split('\n').filter((l) => /^\s*[A-Z_]+=/.test(l));
    expect(settings).toEqual([]); // defaults work: nothing is set until someone uncomments it
    const documented = [...example.matchAll(/^# ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(documented).toEqual(expect.arrayContaining(['DATABASE_URL', 'ADMIN_API_KEY', 'PORT', 'LAMBDA_PORT']));
  });
});
