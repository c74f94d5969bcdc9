import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/types';
import { chunkRows } from '../db/statement-size';
import { nameKeyOf, termsOf } from './search';

/**
 * Keeps the search index of products (products.name_key and product_search_terms) in step with
 * their names. Call these inside the transaction that writes the name, so a product is never
 * findable by a name it does not have. Every writer of products uses them: the service, the seed,
 * the test factories, the benchmark and the migration that built the index.
 */

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
  await addSearchTermsFor(
    db,
    products.filter((p) => p.live),
  );
}

/** The terms of new live products (their name_key goes in with the row: nameKeyOf). */
export async function addSearchTermsFor(
  db: Kysely<DB>,
  products: readonly { id: number; name: string }[],
): Promise<void> {
  await insertTerms(
    db,
    products.flatMap((p) => termsOf(p.name).map((term) => ({ term, product_id: p.id }))),
  );
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
}
