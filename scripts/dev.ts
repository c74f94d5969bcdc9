/**
 * `npm run dev`: finds or starts a database server (see scripts/lib/mysql-server.ts), creates
 * and migrates the database, then serves the API with serverless-offline.
 *
 * Environment: DATABASE_URL (database name defaults to `shop`), PORT (5002), LAMBDA_PORT (3002),
 * HOST (serverless-offline's default, localhost; 0.0.0.0 in a container), DEV_DB_PORT (3307). Any of
 * them may be in `.env` (see .env.example); what the shell sets wins.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadDotEnv } from './lib/dotenv';
import { databaseNameOf, redactUrl, repoRoot, resolveServer } from './lib/mysql-server';
import { devOfflineFlags } from './lib/offline-flags';
import { describeMigrations, prepareDatabase } from './lib/prepare-database';

async function main(): Promise<void> {
  if (loadDotEnv(repoRoot())) console.log('shop-api dev: read .env');
  const fromEnv = process.env.DATABASE_URL;
  const name = (fromEnv ? databaseNameOf(fromEnv) : undefined) ?? 'shop';
  const server = await resolveServer('dev');
  let url: string;
  try {
    const prepared = await prepareDatabase(server.url, name);
    url = prepared.url;
    const migrations = describeMigrations(prepared.applied);
    console.log(`shop-api dev: database ${redactUrl(url)} on ${server.source}; ${migrations}`);
  } catch (err) {
    await server.stop();
    throw err;
  }

  const args = [
    'offline',
    'start',
    '--httpPort',
    process.env.PORT || '5002',
    '--lambdaPort',
    process.env.LAMBDA_PORT || '3002',
    '--noPrependStageInUrl',
    ...devOfflineFlags(),
    ...(process.env.HOST ? ['--host', process.env.HOST] : []),
  ];
  const root = repoRoot();
  const child = spawn(join(root, 'node_modules', '.bin', 'osls'), args, {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'inherit',
  });

  // Keep running until serverless-offline has shut down, then stop the database after it.
  // (A terminal Ctrl-C reaches serverless-offline too; a second SIGINT is harmless to it.)
  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);

  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await new Promise((done, fail) => {
      child.once('error', fail);
      child.once('exit', (code, signal) => done({ code, signal }));
    });
  } finally {
    await server.stop();
  }
  process.exitCode = exit.code ?? (exit.signal === 'SIGINT' || exit.signal === 'SIGTERM' ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(`dev failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
