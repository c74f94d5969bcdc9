/**
 * One database for the whole run: find (or start) a server, create a uniquely named database,
 * migrate it, and hand its URL to the test workers (`inject('databaseUrl')`, see setup-env.ts).
 *
 * Environment: TEST_DATABASE_URL / DATABASE_URL pick the server (see scripts/lib/mysql-server.ts);
 * KEEP_TEST_DB=1 keeps the database after the run for inspection.
 */
import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import { createConnection } from 'mysql2/promise';
import type { TestProject } from 'vitest/node';
import { migrateToLatest } from '../lib/db/migrate';
import { createDatabase, dropDatabase, redactUrl, resolveServer, withDatabase } from '../scripts/lib/mysql-server';

const PREFIX = 'shop_test_';
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Drops test databases left on a shared server by runs that were killed before their teardown.
 * Only those a day old, so a run going on in parallel is never touched.
 */
async function dropStaleTestDatabases(serverUrl: string): Promise<void> {
  const conn = await createConnection({ uri: serverUrl });
  try {
    const [rows] = await conn.query<Array<{ name: string } & RowDataPacket>>(
      'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
      [`${PREFIX}%`],
    );
    const cutoff = Date.now() - STALE_AFTER_MS;
    for (const { name } of rows) {
      const created = Number(name.slice(PREFIX.length).split('_')[0]);
      if (Number.isInteger(created) && created < cutoff) await dropDatabase(serverUrl, name);
    }
  } finally {
    await conn.end();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await resolveServer('test');
  const name = `${PREFIX}${Date.now()}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = withDatabase(server.url, name);
  try {
    await dropStaleTestDatabases(server.url);
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
