/**
 * Lets everything that bundles run side by side in one checkout: `npm run dev` (a second one too),
 * `npm run package`, the tests that package and the benchmark.
 *
 * - Each osls process bundles in its own folder, `.esbuild/<instance id>` (custom.esbuild
 *   outputWorkFolder in serverless.yml), so a package, whose clean-up deletes its work folder, never
 *   deletes the bundles a running serverless-offline serves. The folder is removed when the process
 *   exits; one left by a process that died (SIGKILL) is removed by the next osls that starts.
 * - `osls package` stages its artefacts in `./.serverless`, a path osls and serverless-esbuild both
 *   hard-code and clear. Packages take turns on it through a lock file, `.serverless.lock`, held from
 *   the clean-up to the end, so two never mix or delete each other's zips.
 * - Before serverless-offline serves, every handler is loaded once in a child process: a handler
 *   that cannot load stops the start with its error, instead of serverless-offline answering each
 *   request to it with its own error page (HTTP 200, `{"errorMessage": …}`).
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const OWNER_FILE = 'owner.pid';
const LOCK_FILE = '.serverless.lock';
const LOCK_POLL_MS = 250;

const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};

const readPid = (file) => {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
};

class BuildFolders {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    this.serviceDir = serverless.serviceDir || serverless.config.servicePath;
    this.lockHeld = false;
    this.hooks = {
      initialize: () => this.claimWorkFolder(),
      'before:package:cleanup': () => this.lockPackaging(),
      'after:package:finalize': () => this.unlockPackaging(),
      'before:offline:start:init': () => this.checkHandlersLoad(),
      'before:offline:start': () => this.checkHandlersLoad(),
    };
  }

  workFolder() {
    const folder = this.serverless.service.custom?.esbuild?.outputWorkFolder;
    if (!folder?.startsWith('.esbuild/')) {
      throw new this.serverless.classes.Error('custom.esbuild.outputWorkFolder must be .esbuild/<something unique>');
    }
    return path.join(this.serviceDir, folder);
  }

  /** Marks this process's folder, removes it at exit, and sweeps folders of processes gone. */
  claimWorkFolder() {
    const mine = this.workFolder();
    const root = path.dirname(mine);
    if (fs.existsSync(root)) {
      for (const entry of fs.readdirSync(root)) {
        const dir = path.join(root, entry);
        if (dir === mine) continue;
        const owner = readPid(path.join(dir, OWNER_FILE));
        if (owner > 0 && !isAlive(owner)) fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    fs.mkdirSync(mine, { recursive: true });
    fs.writeFileSync(path.join(mine, OWNER_FILE), String(process.pid));
    process.once('exit', () => {
      fs.rmSync(mine, { recursive: true, force: true });
      this.unlockPackaging();
    });
  }

  async lockPackaging() {
    const lock = path.join(this.serviceDir, LOCK_FILE);
    let waited = false;
    for (;;) {
      try {
        fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
        this.lockHeld = true;
        return;
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
      }
      const owner = readPid(lock);
      if (owner > 0 && !isAlive(owner)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (!waited) this.log?.notice?.(`Waiting for another osls package in this folder (pid ${owner}) to finish`);
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }

  unlockPackaging() {
    if (!this.lockHeld) return;
    this.lockHeld = false;
    fs.rmSync(path.join(this.serviceDir, LOCK_FILE), { force: true });
  }

  /** Loads every handler once, as serverless-offline will, in a child process that then exits. */
  checkHandlersLoad() {
    if (this.checked) return;
    this.checked = true;
    const { service } = this.serverless;
    const location = service.custom?.['serverless-offline']?.location ?? '';
    const handlers = service.getAllFunctions().map((name) => {
      const { handler } = service.getFunction(name);
      const dot = handler.lastIndexOf('.');
      return [name, path.join(this.serviceDir, location, `${handler.slice(0, dot)}.js`), handler.slice(dot + 1)];
    });
    const script = `
      const failed = [];
      for (const [name, file, exported] of JSON.parse(process.argv[1])) {
        try {
          if (typeof require(file)[exported] !== 'function') failed.push(name + ': ' + file + ' exports no ' + exported);
        } catch (err) {
          failed.push(name + ': ' + String((err && err.message) || err).split('\\n')[0]);
        }
      }
      if (failed.length) { console.error(failed.join('\\n')); process.exit(1); }`;
    const env = { ...process.env, ...service.provider.environment, IS_OFFLINE: 'true' };
    try {
      execFileSync(process.execPath, ['-e', script, JSON.stringify(handlers)], { env, stdio: 'pipe' });
    } catch (err) {
      const detail = err.stderr ? err.stderr.toString().trim() : String(err);
      throw new this.serverless.classes.Error(`Refusing to serve: handlers that cannot load:\n${detail}`);
    }
  }
}

module.exports = BuildFolders;
