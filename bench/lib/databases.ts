/**
 * The benchmark's databases, on whichever server `npm run dev` would use (DATABASE_URL, a server
 * on 127.0.0.1:3306, or the persistent dev server in .data/mysql, started if needed):
 *   - a fresh run database for the write scenarios (dropped at the end unless --keep);
 *   - a fresh 1,000-product catalogue;
 *   - the large catalogue `shop_bench_catalogue` (1,000,000 products), seeded once by `npm run seed`
 *     and reused while its marker says it is complete and its counter matches.
 * Every product is seeded with its ledger row and the `live_products` counter, so each is a valid
 * shop database that the real handlers can serve.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RowDataPacket } from 'mysql2';
import { type Connection, createConnection } from 'mysql2/promise';
import { createDb } from '../../lib/db/client';
import { migrateToLatest } from '../../lib/db/migrate';
import { insertProducts } from '../../lib/products/repository';
import {
  createDatabase,
  dropDatabase,
  dropStaleDatabases,
  type ResolvedServer,
  resolveServer,
  withDatabase,
} from '../../scripts/lib/mysql-server';

export const RUN_PREFIX = 'shop_bench_run_';
export const CATALOGUE_DB = 'shop_bench_catalogue';

export interface Server {
  resolved: ResolvedServer;
  url: string;
  version: string;
}

export async function connect(databaseUrl: string): Promise<Connection> {
  return createConnection({
    uri: databaseUrl,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    decimalNumbers: true,
  });
}

export async function withConnection<T>(databaseUrl: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const c = await connect(databaseUrl);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function queryRows<T>(c: Connection, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await c.query<RowDataPacket[]>(sql, params);
  return rows as unknown as T[];
}

export async function openServer(): Promise<Server> {
  const resolved = await resolveServer('dev');
  const version = await withConnection(resolved.url, async (c) => {
    const [row] = await queryRows<{ v: string }>(c, 'SELECT VERSION() AS v');
    return row?.v ?? 'unknown';
  });
  const flavour = /mariadb/i.test(version) ? 'MariaDB' : 'MySQL';
  return { resolved, url: resolved.url, version: `${flavour} ${version.replace(/-MariaDB.*$/i, '')}` };
}

/** Creates and migrates a fresh uniquely named database; returns its URL and name. */
export async function freshDatabase(server: Server, suffix = ''): Promise<{ name: string; url: string }> {
  const name = `${RUN_PREFIX}${Date.now()}_${randomBytes(3).toString('hex')}${suffix}`;
  await createDatabase(server.url, name);
  const url = withDatabase(server.url, name);
  await migrateToLatest(url);
  return { name, url };
}

/** Drops run databases that a killed run left behind (a day old, so a parallel run is never hit). */
export async function dropStaleRunDatabases(server: Server): Promise<void> {
  await dropStaleDatabases(server.url, RUN_PREFIX);
}

export async function dropRunDatabase(server: Server, name: string): Promise<void> {
  if (!name.startsWith(RUN_PREFIX)) throw new Error(`refusing to drop ${name}: not a bench run database`);
  await dropDatabase(server.url, name);
}

export interface SeedSpec {
  /** How many products to add (ids are assigned after the current maximum). */
  count: number;
  /** Stock of each product. */
  stock: number;
  /** Stock rows per product (1–64, default 1). */
  shards?: number;
  /** Name prefix; the product number is appended, so names stay unique. */
  prefix: string;
  /** Rows per INSERT (each batch is one transaction). */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Adds `count` live products with their ledger rows and the counter (insertProducts, the one way
 * products are made), in batches of up to 5,000, each batch one transaction, so the database is
 * consistent after every commit. Returns the id range added.
 */
export async function seedProducts(
  databaseUrl: string,
  spec: SeedSpec,
): Promise<{ firstId: number; lastId: number; ms: number }> {
  const t0 = performance.now();
  const batch = Math.min(spec.batch ?? 5_000, 5_000);
  const db = createDb(databaseUrl, { poolSize: 1, statementTimeoutMs: 0 });
  try {
    const at = new Date();
    let firstId = 0;
    let lastId = 0;
    for (let done = 0; done < spec.count; ) {
      const n = Math.min(batch, spec.count - done);
      // Prices 1.00–999.99 and description lengths vary, so rows are not all alike.
      const rows = Array.from({ length: n }, (_, i) => {
        const k = done + i + 1;
        return {
          name: `${spec.prefix} ${k}`,
          description: `Benchmark product ${k}: ${'sturdy, useful, '.repeat(1 + (k % 8))}`,
          price_cents: 100 + ((k * 7919) % 99_900),
          stock: spec.stock,
          stock_shards: spec.shards ?? 1,
          archived_at: null,
          created_at: at,
          updated_at: at,
        };
      });
      const ids = await db.transaction().execute((trx) => insertProducts(trx, rows));
      if (firstId === 0) firstId = ids[0] as number;
      else if (ids[0] !== lastId + 1) throw new Error('seeded product ids are not one range');
      lastId = ids[ids.length - 1] as number;
      done += n;
      spec.onProgress?.(done, spec.count);
    }
    return { firstId, lastId, ms: performance.now() - t0 };
  } finally {
    await db.destroy();
  }
}

const MARKER_TABLE = 'bench_catalogue_marker';
/** Bumped when the way the catalogue is made changes, so an older catalogue is made again. */
const MARKER_SEEDER = 'scripts/seed.ts v2 search words';

/**
 * Fills the database at `databaseUrl` with `count` products through `npm run seed` (scripts/seed.ts:
 * batched multi-row INSERTs, each batch one transaction with its ledger rows and the live counter),
 * the same catalogue a developer seeds. Its progress lines go to `log`.
 */
export async function runSeedScript(
  repoRoot: string,
  databaseUrl: string,
  count: number,
  log: (line: string) => void,
): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['scripts/seed.ts', '--count', String(count)], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-2_000);
      for (const line of text.split(/[\r\n]+/)) if (line.trim()) log(`  ${line.trim()}`);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run seed failed (exit ${code}): ${tail}`)),
    );
  });
  return performance.now() - t0;
}

/**
 * Ensures the large catalogue exists with exactly `size` live products: reuses it when its marker
 * (written only after the seed finished) names this size and seeder and its live_products counter
 * agrees; otherwise drops it and seeds it again. Returns its URL and how long seeding took, if it did.
 */
export async function ensureCatalogue(
  server: Server,
  repoRoot: string,
  size: number,
  name: string,
  log: (line: string) => void,
): Promise<{ url: string; seededMs: number | undefined }> {
  const url = withDatabase(server.url, name);
  await createDatabase(server.url, name);
  // Whether to keep it is decided before migrating, so a catalogue about to be dropped is not
  // migrated first (a migration may backfill every row).
  const ready = await withConnection(url, async (c) => {
    const columns = await queryRows<{ c: string }>(
      c,
      'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [MARKER_TABLE],
    );
    if (!columns.some((col) => col.c === 'seeder')) return false;
    const [marker] = await queryRows<{ products: number | string; seeder: string }>(
      c,
      `SELECT products, seeder FROM ${MARKER_TABLE} LIMIT 1`,
    );
    const [counter] = await queryRows<{ value: number | string }>(
      c,
      "SELECT value FROM counters WHERE name = 'live_products'",
    );
    return Number(marker?.products) === size && marker?.seeder === MARKER_SEEDER && Number(counter?.value) === size;
  });
  if (ready) {
    await migrateToLatest(url); // a later migration (e.g. an index) reaches the kept catalogue too
    log(`catalogue ${name}: ${size.toLocaleString('en-US')} products present, reused`);
    return { url, seededMs: undefined };
  }
  log(
    `catalogue ${name}: seeding ${size.toLocaleString('en-US')} products with npm run seed (once; later runs reuse it)`,
  );
  await dropDatabase(server.url, name);
  await createDatabase(server.url, name);
  await migrateToLatest(url);
  const ms = await runSeedScript(repoRoot, url, size, log);
  await withConnection(url, async (c) => {
    await c.query(
      `CREATE TABLE ${MARKER_TABLE} (products BIGINT NOT NULL, seeder VARCHAR(64) NOT NULL, seeded_at DATETIME(3) NOT NULL)`,
    );
    await c.query(`INSERT INTO ${MARKER_TABLE} VALUES (?, ?, NOW(3))`, [size, MARKER_SEEDER]);
    await c.query('ANALYZE TABLE products, product_search_terms');
  });
  log(`catalogue ${name}: seeded in ${(ms / 1000).toFixed(1)} s`);
  return { url, seededMs: ms };
}
