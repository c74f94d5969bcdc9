/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL (creating the database if
 * missing). Without DATABASE_URL it uses the server `npm run dev` would use (127.0.0.1:3306, or
 * the dev server on 3307 if it is running) and database `shop`; it never starts a server itself.
 */
import { databaseNameOf, redactUrl, resolveServer } from './lib/mysql-server';
import { describeMigrations, prepareDatabase } from './lib/prepare-database';

async function main(): Promise<void> {
  const fromEnv = process.env.DATABASE_URL;
  const name = (fromEnv ? databaseNameOf(fromEnv) : undefined) ?? 'shop';
  const server = await resolveServer('dev', { start: false });
  const { url, created, applied } = await prepareDatabase(server.url, name);
  console.log(`${redactUrl(url)}${created ? ' (created)' : ''}: ${describeMigrations(applied)}`);
}

main().catch((err: unknown) => {
  console.error(`migrate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
