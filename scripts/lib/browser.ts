import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A Chromium-family browser for the docs page's browser test, found where people have one:
 * CHROME_PATH, then `chromium`, `chromium-browser`, `google-chrome`, `google-chrome-stable` on
 * PATH, then the macOS application folders. `source` says which rule found it.
 */
export interface FoundBrowser {
  path: string;
  source: string;
}

export const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

const MAC_APPS = [
  'Google Chrome.app/Contents/MacOS/Google Chrome',
  'Chromium.app/Contents/MacOS/Chromium',
  'Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing',
];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Throws when CHROME_PATH names something that is not an executable: an explicit choice must hold. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env): FoundBrowser | undefined {
  const explicit = env.CHROME_PATH?.trim();
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`CHROME_PATH=${explicit} is not an executable file`);
    return { path: explicit, source: 'CHROME_PATH' };
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const name of BROWSER_NAMES) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutable(path)) return { path, source: `${name} on PATH` };
    }
  }
  for (const apps of ['/Applications', join(env.HOME ?? homedir(), 'Applications')]) {
    for (const app of MAC_APPS) {
      const path = join(apps, app);
      if (isExecutable(path)) return { path, source: 'macOS application' };
    }
  }
  return undefined;
}

export const HOW_TO_ENABLE_BROWSER =
  'install Chromium or Chrome (apt-get install chromium, brew install --cask chromium) or set CHROME_PATH=/path/to/chrome';
