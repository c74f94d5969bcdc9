import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBrowser } from '../../scripts/lib/browser';

const root = mkdtempSync(join(tmpdir(), 'find-browser-'));
const executable = (path: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
};
const empty = join(root, 'home-without-apps');

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('finding a browser for the docs browser test', () => {
  it('finds none on a machine without one (the test is then skipped, or fails with CI=true)', () => {
    expect(findBrowser({ PATH: join(root, 'empty-bin'), HOME: empty })).toBeUndefined();
  });

  it('takes chromium, chromium-browser or google-chrome from PATH, in that order', () => {
    const bin = join(root, 'bin');
    const chrome = executable(join(bin, 'google-chrome'));
    expect(findBrowser({ PATH: `/nonexistent:${bin}`, HOME: empty })).toEqual({
      path: chrome,
      source: 'google-chrome on PATH',
    });
    const ubuntu = executable(join(bin, 'chromium-browser'));
    expect(findBrowser({ PATH: bin, HOME: empty })?.path).toBe(ubuntu);
    writeFileSync(join(bin, 'chromium'), 'not executable');
    expect(findBrowser({ PATH: bin, HOME: empty })?.path).toBe(ubuntu);
  });

  it('prefers CHROME_PATH, and refuses one that is not an executable', () => {
    const mine = executable(join(root, 'opt', 'my-chrome'));
    expect(findBrowser({ CHROME_PATH: mine, PATH: join(root, 'bin'), HOME: empty })).toEqual({
      path: mine,
      source: 'CHROME_PATH',
    });
    expect(() => findBrowser({ CHROME_PATH: join(root, 'missing'), HOME: empty })).toThrow(/CHROME_PATH/);
  });

  it('looks in the macOS application folders (~/Applications too)', () => {
    const home = join(root, 'home');
    const app = executable(join(home, 'Applications', 'Chromium.app', 'Contents', 'MacOS', 'Chromium'));
    expect(findBrowser({ PATH: '', HOME: home })).toEqual({ path: app, source: 'macOS application' });
  });
});
