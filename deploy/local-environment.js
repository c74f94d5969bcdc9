/**
 * The shell reaches the handlers only locally. Under serverless-offline and `osls invoke local`
 * every variable that provider.environment declares takes the shell's value when the shell has one
 * (DATABASE_URL, ADMIN_API_KEY, LOG_LEVEL, DB_POOL_SIZE …), and an empty declared value with nothing
 * in the shell is dropped so lib/config.ts's default applies.
 *
 * serverless.yml itself never reads these from the shell (`${env:…}`): `osls package` and
 * `osls deploy` write only what serverless.yml and --param state, for every stage, so a
 * DATABASE_URL with a password or a key exported in the deploying shell never lands in a template.
 */
class LocalEnvironment {
  constructor(serverless) {
    this.serverless = serverless;
    const fromShell = () => this.apply();
    this.hooks = {
      'before:offline:start:init': fromShell,
      'before:offline:start': fromShell,
      'before:invoke:local:loadEnvVars': fromShell,
    };
  }

  apply() {
    const env = this.serverless.service.provider.environment ?? {};
    for (const name of Object.keys(env)) {
      const shell = process.env[name];
      if (shell !== undefined) env[name] = shell;
      else if (env[name] === '') delete env[name];
    }
  }
}

module.exports = LocalEnvironment;
