/**
 * One database for the whole run: find (or start) a server, create a uniquely named database,
 * migrate it, and hand its URL to the test workers (`inject('databaseUrl')`, see setup-env.ts).
 *
 * Environment: TEST_DATABASE_URL / DATABASE_URL pick the server (see scripts/lib/mysql-server.ts);
 * KEEP_TEST_DB=1 keeps the database after the run for inspection.
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { migrateToLatest } from '../lib/db/migrate';
import {
  createDatabase,
  dropDatabase,
  dropStaleDatabases,
  redactUrl,
  resolveServer,
  withDatabase,
} from '../scripts/lib/mysql-server';

const PREFIX = 'shop_test_';
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await resolveServer('test');
  const name = `${PREFIX}${Date.now()}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = withDatabase(server.url, name);
  try {
    await dropStaleDatabases(server.url, PREFIX);
    await createDatabase(server.url, name);
    // Set before migrating: lib/config.ts validates the environment on first use.
    process.env.DATABASE_URL = databaseUrl;
    await migrateToLatest(databaseUrl);
  } catch (err) {
    await server.stop();
    throw err;
  }
  console.log(`tests use ${redactUrl(databaseUrl)} (${server.source})`);
  project.provide('databaseUrl', databaseUrl);

  return async () => {
    if (process.env.KEEP_TEST_DB === '1') {
      const note = server.started
        ? ', but the throwaway server holding it is removed; set TEST_DATABASE_URL to keep it'
        : '';
      console.log(`KEEP_TEST_DB=1: kept ${redactUrl(databaseUrl)}${note}`);
    } else {
      await dropDatabase(server.url, name);
    }
    await server.stop();
  };
}
