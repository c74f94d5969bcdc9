import { config } from '../../lib/config';
import { migrateToLatest } from '../../lib/db/migrate';
import { createDatabase, resolveServer, withDatabase } from './mysql-server';

export interface PreparedDatabase {
  /** Full URL of the database. */
  url: string;
  /** True if the database did not exist before. */
  created: boolean;
  /** Names of the migrations this call applied (empty when already up to date). */
  applied: string[];
}

/**
 * Creates database `name` on the server if missing and applies pending migrations.
 * Sets process.env.DATABASE_URL to the database first: lib/config.ts validates the environment
 * (and needs a URL with a database) the first time the migration code asks for it.
 */
export async function prepareDatabase(serverUrl: string, name: string): Promise<PreparedDatabase> {
  const url = withDatabase(serverUrl, name);
  const created = await createDatabase(serverUrl, name);
  process.env.DATABASE_URL = url;
  const applied = await migrateToLatest(url);
  return { url, created, applied };
}

/** One line about the migrations for the console. */
export function describeMigrations(applied: string[]): string {
  if (applied.length === 0) return 'migrations up to date';
  return `applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.join(', ')}`;
}

/**
 * The database a tool works on when told nothing: DATABASE_URL, else the `shop` database of the
 * server `npm run dev` uses (nothing is started).
 */
export async function existingDevDatabaseUrl(): Promise<string> {
  // Tooling may look at the environment to decide where to look (as mysql-server.ts does); the
  // URL itself still comes through lib/config.ts when it is set.
  if (process.env.DATABASE_URL?.trim()) return config().databaseUrl;
  const server = await resolveServer('dev', { start: false });
  return withDatabase(server.url, 'shop');
}
