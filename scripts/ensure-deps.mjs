// Runs before `npm run dev` / `npm test`: installs dependencies when they are
// missing or older than package-lock.json, and otherwise returns at once.
// Plain Node on purpose: it must work before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd(); // npm runs lifecycle scripts from the package root
const lockFile = join(root, 'package-lock.json');
const modulesDir = join(root, 'node_modules');
// npm writes this "hidden lockfile" at the end of every install, so its mtime
// says when node_modules last matched the lock file.
const installedLock = join(modulesDir, '.package-lock.json');

function reason() {
  if (!existsSync(modulesDir)) return 'node_modules is missing';
  if (!existsSync(lockFile)) return undefined; // nothing to compare against
  if (!existsSync(installedLock)) return 'node_modules has no record of the last install';
  if (statSync(lockFile).mtimeMs > statSync(installedLock).mtimeMs) {
    return 'package-lock.json changed since the last install';
  }
  return undefined;
}

const why = reason();
if (why !== undefined) {
  const args = existsSync(lockFile) ? ['ci'] : ['install'];
  console.error(`ensure-deps: ${why}; running npm ${args.join(' ')}`);
  const result = spawnSync('npm', args, {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32', // npm is npm.cmd there
  });
  if (result.error) throw result.error;
  process.exit(result.status ?? 1);
}
