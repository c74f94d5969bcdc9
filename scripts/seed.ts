/**
 * `npm run seed -- --count N [--batch-size B]`: adds N products to the development catalogue
 * (default 1,000), B rows per INSERT statement (default 5,000), with a progress display on stderr.
 *
 * Database: DATABASE_URL, or the server `npm run dev` uses (127.0.0.1:3306, or the dev server on
 * 3307 when it runs) with database `shop`, created and migrated if needed; like `npm run migrate`,
 * it never starts a server itself.
 *
 * Invariants kept, batch by batch, each batch in one transaction (an interrupted seed leaves whole
 * batches only): every product gets its stock in one shard (PATCH `stock_shards` spreads a product
 * over more for a sale), its `created` stock movement, and counters.live_products grows by the
 * batch size; the search index is written with the products. Names are
 * `#0000001 Compact notebook`, …, numbered after the highest seed number already live, so a second
 * run adds to the first instead of colliding with it.
 */
import { type Kysely, sql } from 'kysely';
import { createDb } from '../lib/db/client';
import type { DB } from '../lib/db/types';
import { insertProducts, type NewProduct } from '../lib/products/repository';
import { databaseNameOf, redactUrl, resolveServer } from './lib/mysql-server';
import { prepareDatabase } from './lib/prepare-database';

const NAME_PREFIX = '#';
const NAME_DIGITS = 7;
const MAX_NUMBER = 10 ** NAME_DIGITS - 1;
const DEFAULT_COUNT = 1_000;
const DEFAULT_BATCH = 5_000;
const MAX_BATCH = 20_000;
const DEFAULT_CONCURRENCY = 2;

const USAGE = `usage: npm run seed -- [--count N] [--batch-size B] [--concurrency C]
  --count N        products to add (default ${DEFAULT_COUNT})
  --batch-size B   rows per INSERT statement, 1–${MAX_BATCH} (default ${DEFAULT_BATCH})
  --concurrency C  batches in flight, each on its own connection, 1–8 (default ${DEFAULT_CONCURRENCY})`;

class UsageError extends Error {}

interface Options {
  count: number;
  batchSize: number;
  concurrency: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { count: DEFAULT_COUNT, batchSize: DEFAULT_BATCH, concurrency: DEFAULT_CONCURRENCY };
  const whole = (flag: string, raw: string | undefined, min: number, max: number): number => {
    const text = (raw ?? '').replaceAll('_', '').replaceAll(',', '');
    const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= min && n <= max))
      throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${raw ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '--count' || flag === '-n') opts.count = whole('--count', value(), 0, MAX_NUMBER);
    else if (flag === '--batch-size') opts.batchSize = whole('--batch-size', value(), 1, MAX_BATCH);
    else if (flag === '--concurrency') opts.concurrency = whole('--concurrency', value(), 1, 8);
    else if (flag === '--help' || flag === '-h') throw new UsageError('');
    else throw new UsageError(`unknown argument ${arg}`);
  }
  return opts;
}

/** The highest number among live seed names (0 when there are none), found on the live_name index. */
async function highestSeedNumber(db: Kysely<DB>): Promise<number> {
  const row = await db
    .selectFrom('products')
    .select('live_name')
    .where('live_name', 'like', `${NAME_PREFIX}%`)
    .where(sql<boolean>`live_name REGEXP ${`^${NAME_PREFIX}[0-9]{${NAME_DIGITS}}( |$)`}`)
    .orderBy('live_name', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.live_name ? Number(row.live_name.slice(NAME_PREFIX.length, NAME_PREFIX.length + NAME_DIGITS)) : 0;
}

const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Eco', 'Handmade', 'Large', 'Mini', 'Organic', 'Smart', 'Vintage'];
const NOUNS = ['mug', 'teapot', 'lamp', 'notebook', 'backpack', 'candle', 'scarf', 'kettle', 'plant pot', 'blanket'];
/** In 1 product of RARE_EVERY: the benchmark's rare search word. */
export const RARE_WORD = 'Zephyr';
const RARE_EVERY = 10_007;
const nounOf = (n: number): string => NOUNS[(3 * n + Math.floor(n / 10)) % NOUNS.length] ?? 'mug';

/**
 * `#0000001 Compact notebook`: the number first (so the highest is found on the live_name index),
 * then words, so searches meet common words (each noun names 1 product in 10) and a rare one.
 */
const nameOf = (n: number): string =>
  `${NAME_PREFIX}${String(n).padStart(NAME_DIGITS, '0')} ${ADJECTIVES[n % ADJECTIVES.length]} ${nounOf(n)}${n % RARE_EVERY === 0 ? ` ${RARE_WORD}` : ''}`;

/** Deterministic, varied-looking fields for product number n. */
function productFor(n: number, at: Date): NewProduct {
  return {
    name: nameOf(n),
    description: `${ADJECTIVES[n % ADJECTIVES.length]} ${nounOf(n)} for development and benchmarks.`,
    price_cents: 99 + ((n * 7_919) % 49_901), // 0.99 … 499.99
    stock: 1 + ((n * 104_729) % 1_000), // 1 … 1000: every product has its `created` movement
    archived_at: null,
    created_at: at,
    updated_at: at,
  };
}

/**
 * One batch in one transaction: the products, their shard (one each), their `created` movements
 * and the live counter (insertProducts, the one way products are made). (INSERT … SELECT would
 * avoid sending the movements, but it is a "bulk insert" that holds the table's AUTO-INC lock while
 * it waits for row locks, which deadlocks batches running side by side.)
 */
async function insertBatch(db: Kysely<DB>, from: number, size: number): Promise<{ first: number; last: number }> {
  const at = new Date();
  const rows = Array.from({ length: size }, (_, i) => productFor(from + i, at));
  const ids = await db.transaction().execute((trx) => insertProducts(trx, rows));
  return { first: ids[0] as number, last: ids[ids.length - 1] as number };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

class Progress {
  private readonly started = Date.now();
  private lastLine = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly total: number) {}

  update(done: number): void {
    const now = Date.now();
    const final = done === this.total;
    // A terminal gets a live line; a log gets a line every 5 s and the last one.
    if (!this.tty && !final && now - this.lastLine < 5_000) return;
    this.lastLine = now;
    const s = (now - this.started) / 1000;
    const rate = s > 0 ? done / s : 0;
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const pct = this.total === 0 ? 100 : (100 * done) / this.total;
    const width = 24;
    const filled = Math.round((width * pct) / 100);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const line = `${bar} ${fmt(done)}/${fmt(this.total)} (${pct.toFixed(1)}%)  ${fmt(rate)} products/s  ${final ? `${s.toFixed(1)} s` : `ETA ${eta.toFixed(0)} s`}`;
    process.stderr.write(this.tty ? `\r${line}\x1b[K${final ? '\n' : ''}` : `${line}\n`);
  }

  elapsedS(): number {
    return (Date.now() - this.started) / 1000;
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const fromEnv = process.env.DATABASE_URL;
  const name = (fromEnv ? databaseNameOf(fromEnv) : undefined) ?? 'shop';
  const server = await resolveServer('dev', { start: false });
  const { url } = await prepareDatabase(server.url, name);
  const db = createDb(url, { poolSize: opts.concurrency, lockWaitTimeoutS: 0, statementTimeoutMs: 0 });
  try {
    const start = (await highestSeedNumber(db)) + 1;
    const end = start + opts.count - 1;
    if (end > MAX_NUMBER)
      throw new UsageError(`seed names would pass ${nameOf(MAX_NUMBER)}; the catalogue already has ${fmt(start - 1)}`);
    console.error(
      `seeding ${fmt(opts.count)} products into ${redactUrl(url)}, ${fmt(opts.batchSize)} per statement, ${opts.concurrency} at a time`,
    );
    const progress = new Progress(opts.count);
    let firstId = Number.POSITIVE_INFINITY;
    let lastId = 0;
    let next = start;
    let done = 0;
    // A few batches in flight on their own connections: one is built while another is written.
    const worker = async (): Promise<void> => {
      while (next <= end) {
        const from = next;
        const size = Math.min(opts.batchSize, end - from + 1);
        next += size;
        const ids = await insertBatch(db, from, size);
        firstId = Math.min(firstId, ids.first);
        lastId = Math.max(lastId, ids.last);
        done += size;
        progress.update(done);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    if (opts.count === 0) progress.update(0);
    const s = progress.elapsedS();
    const range = lastId === 0 ? '' : ` (ids ${firstId}–${lastId}, "${nameOf(start)}" … "${nameOf(end)}")`;
    console.error(
      `seeded ${fmt(opts.count)} products${range} in ${s.toFixed(1)} s: ${fmt(s > 0 ? opts.count / s : 0)} products/s`,
    );
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    if (err.message) console.error(`seed: ${err.message}`);
    console.error(USAGE);
    process.exitCode = err.message ? 2 : 0;
    return;
  }
  console.error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
