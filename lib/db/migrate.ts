import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import { createDb } from './client';
import { migrations } from './migrations';
import type { DB } from './types';

export async function migrate(db: Kysely<DB>): Promise<MigrationResultSet> {
  // Unordered: migrations named on the same day by different changes can land in either order
  // (2026_11_29_0001 after 0002 had run somewhere); a missing one is applied, in name order.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    allowUnorderedMigrations: true,
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const name = failed ? ` (${failed.migrationName})` : '';
    throw new Error(`Migration failed${name}: ${String(result.error)}`, { cause: result.error });
  }
  return result;
}

/** Applies pending migrations to the database at `databaseUrl`; returns the names applied. */
export async function migrateToLatest(databaseUrl: string): Promise<string[]> {
  const db = createDb(databaseUrl, { poolSize: 1, lockWaitTimeoutS: 0, statementTimeoutMs: 0 });
  try {
    const result = await migrate(db);
    return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  } finally {
    await db.destroy();
  }
}
