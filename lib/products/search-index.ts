import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/types';
import { chunkRows } from '../db/statement-size';
import { nameKeyOf, termsOf } from './search';

/**
 * Keeps the search index of products (products.name_key, product_search_terms and the count of
 * live products per term, product_search_term_counts) in step with their names. Call these inside
 * the transaction that writes the name, so a product is never findable by a name it does not have
 * and a term's count is its number of rows at every commit. Every writer of products uses them:
 * the service, the seed, the test factories, the benchmark and the migrations that built the index
 * (2026_11_29_0002, before the counts existed, writes terms only; 2026_11_30_0003 counted them).
 * docs/decisions/0011-catalogue-search.md, 0015-maintained-search-counts.md.
 */

/** counters row written once migration 2026_11_30_0003 has counted every term. */
export const TERM_COUNTS_READY = 'term_counts_ready';

export interface NamedProduct {
  id: number;
  name: string;
  /** Archived products keep a name_key but have no terms (they are never listed). */
  live: boolean;
}

async function insertTerms(db: Kysely<DB>, rows: { term: string; product_id: number }[]): Promise<void> {
  // Under the 16 KB statement size that RDS Proxy pins a session for.
  for (const chunk of chunkRows(rows)) {
    await db.insertInto('product_search_terms').values(chunk).execute();
  }
}

/** The order of the terms' primary key (utf8mb4_bin compares code points, as UTF-8 bytes do). */
const byKey = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * Moves the live-product count of each term by its delta (one +1 or −1 per product row of the
 * term written or deleted), in one upsert per 16 KB of rows in the key's ascending order, so
 * writers sharing a term (a common prefix such as `m`) queue on its row instead of deadlocking;
 * rows brought to 0 are deleted (locked by the upsert already).
 */
async function moveTermCounts(db: Kysely<DB>, deltas: ReadonlyMap<string, number>): Promise<void> {
  const rows = [...deltas]
    .filter(([, d]) => d !== 0)
    .sort(([a], [b]) => byKey(a, b))
    .map(([term, products]) => ({ term, products }));
  for (const chunk of chunkRows(rows)) {
    // VALUES() works on MySQL 8 (deprecated, a warning) and MariaDB (which has no `AS new` alias).
    await sql`
      INSERT INTO product_search_term_counts (term, products)
      VALUES ${sql.join(chunk.map((r) => sql`(${r.term}, ${r.products})`))}
      ON DUPLICATE KEY UPDATE products = products + VALUES(products)`.execute(db);
  }
  const lowered = rows.filter((r) => r.products < 0).map((r) => r.term);
  for (const chunk of chunkRows(lowered.map((term) => ({ term })))) {
    await sql`
      DELETE FROM product_search_term_counts
       WHERE term IN (${sql.join(chunk.map((r) => r.term))}) AND products = 0`.execute(db);
  }
}

/** Each term of `terms` (several products' lists) counted `sign` times per occurrence. */
function deltasOf(lists: readonly (readonly string[])[], sign: 1 | -1, into = new Map<string, number>()) {
  for (const terms of lists) for (const t of terms) into.set(t, (into.get(t) ?? 0) + sign);
  return into;
}

/**
 * How many live products have `term` (a product has each of its terms once), no further than
 * `cap`; undefined until migration 2026_11_30_0003 has counted every term (then the caller counts
 * the term's rows). One primary-key lookup.
 */
export async function countTerm(db: Kysely<DB>, term: string, cap: number): Promise<number | undefined> {
  const { rows } = await sql<{ n: number | string | null; ready: number | string | null }>`
    SELECT (SELECT products FROM product_search_term_counts WHERE term = ${term}) AS n,
           (SELECT value FROM counters WHERE name = ${TERM_COUNTS_READY}) AS ready`.execute(db);
  const row = rows[0];
  if (row?.ready === null || row?.ready === undefined) return undefined;
  return Math.min(Number(row.n ?? 0), cap);
}

/** Writes name_key and the terms of products whose rows exist already (any number, chunked). */
export async function indexProductNames(db: Kysely<DB>, products: readonly NamedProduct[]): Promise<void> {
  const keys = products.map((p) => ({ id: p.id, key: nameKeyOf(p.name) }));
  for (const chunk of chunkRows(keys)) {
    if (chunk.length === 1) {
      const [only] = chunk;
      if (only) await db.updateTable('products').set({ name_key: only.key }).where('id', '=', only.id).execute();
      continue;
    }
    const cases = sql.join(
      chunk.map((k) => sql`WHEN ${k.id} THEN ${k.key}`),
      sql` `,
    );
    await db
      .updateTable('products')
      .set({ name_key: sql<string>`CASE id ${cases} END` })
      .where(
        'id',
        'in',
        chunk.map((k) => k.id),
      )
      .execute();
  }
  // Terms only: this runs in migration 2026_11_29_0002, before product_search_term_counts exists
  // (2026_11_30_0003 counts what it wrote).
  await insertTerms(
    db,
    products.filter((p) => p.live).flatMap((p) => termsOf(p.name).map((term) => ({ term, product_id: p.id }))),
  );
}

/** The terms of new live products (their name_key goes in with the row: nameKeyOf). */
export async function addSearchTermsFor(
  db: Kysely<DB>,
  products: readonly { id: number; name: string }[],
): Promise<void> {
  const lists = products.map((p) => termsOf(p.name));
  await insertTerms(
    db,
    products.flatMap((p, i) => (lists[i] ?? []).map((term) => ({ term, product_id: p.id }))),
  );
  await moveTermCounts(db, deltasOf(lists, 1));
}

/** The terms of one new live product. */
export async function addSearchTerms(db: Kysely<DB>, id: number, name: string): Promise<void> {
  await addSearchTermsFor(db, [{ id, name }]);
}

/** Removes the product's terms, found from the name it had (by primary key: no scan). */
export async function removeSearchTerms(db: Kysely<DB>, id: number, name: string): Promise<void> {
  const terms = termsOf(name);
  if (terms.length === 0) return;
  await db.deleteFrom('product_search_terms').where('product_id', '=', id).where('term', 'in', terms).execute();
  await moveTermCounts(db, deltasOf([terms], -1));
}

/** Moves a live product's terms from its old name to its new one (only the difference is written). */
export async function renameSearchTerms(db: Kysely<DB>, id: number, oldName: string, newName: string): Promise<void> {
  const before = new Set(termsOf(oldName));
  const after = new Set(termsOf(newName));
  const gone = [...before].filter((t) => !after.has(t));
  const added = [...after].filter((t) => !before.has(t));
  if (gone.length > 0)
    await db.deleteFrom('product_search_terms').where('product_id', '=', id).where('term', 'in', gone).execute();
  await insertTerms(
    db,
    added.map((term) => ({ term, product_id: id })),
  );
  await moveTermCounts(db, deltasOf([added], 1, deltasOf([gone], -1)));
}
