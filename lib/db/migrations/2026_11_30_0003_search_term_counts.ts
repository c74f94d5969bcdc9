import { type Kysely, sql } from 'kysely';
import { isRetryableLockError } from '../errors';
import { chunkRows } from '../statement-size';

/*
 * Per-term counts (docs/decisions/0015-maintained-search-counts.md): how many live products have
 * each search term, so a `q` of one term is counted by one primary-key lookup instead of reading up
 * to 10,001 entries of product_search_terms. lib/products/search-index.ts keeps it from then on.
 *   1. product_search_term_counts (term, products). The code deployed before this runs (DEPLOY.md:
 *      deploy, then migrate) moves its rows from the moment the table exists, also for terms not
 *      counted yet (partial or negative for a while; nobody reads them before step 3).
 *   2. Backfill by term ranges of about 100,000 term rows. Each range is one transaction:
 *        - its terms' rows are counted with LOCK IN SHARE MODE: shared next-key locks on that range
 *          of product_search_terms' primary key (REPEATABLE READ, the default on both servers). A
 *          create, rename or archive that would add or delete a term row in the range waits for
 *          this transaction; one that already did is waited for.
 *        - the range's count rows are deleted and written again with those absolute counts.
 *      So a writer's delta lands either before its term is counted (and is overwritten by a count
 *      that includes it) or after (added to the right value). Writers lock term rows before count
 *      rows, as this does; a deadlock or lock wait timeout re-runs the range.
 *   3. counters 'term_counts_ready' = 1: from now on a one-term `q` is counted from here.
 */
const BATCH = 100_000;

async function backfillRange(db: Kysely<unknown>, from: string, to: string | undefined): Promise<void> {
  const below = to === undefined ? sql`` : sql`AND term < ${to}`;
  await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ term: string; n: unknown }>`
      SELECT term, COUNT(*) AS n FROM product_search_terms FORCE INDEX (PRIMARY)
       WHERE term >= ${from} ${below}
       GROUP BY term
       LOCK IN SHARE MODE`.execute(trx);
    await sql`DELETE FROM product_search_term_counts WHERE term >= ${from} ${below}`.execute(trx);
    // Under the 16 KB statement size that RDS Proxy pins a session for.
    const counted = rows.map((r) => ({ term: r.term, products: Number(r.n) }));
    for (const chunk of chunkRows(counted)) {
      await sql`
        INSERT INTO product_search_term_counts (term, products)
        VALUES ${sql.join(chunk.map((r) => sql`(${r.term}, ${r.products})`))}`.execute(trx);
    }
  });
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE IF NOT EXISTS product_search_term_counts (
      term VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      products INT NOT NULL,
      PRIMARY KEY (term)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`.execute(db);

  for (let from = ''; ; ) {
    // The range ends before the first term after the one about BATCH rows on (read without locks:
    // only a size), so a term's rows are never split between ranges.
    const { rows } = await sql<{ term: string }>`
      SELECT term FROM product_search_terms FORCE INDEX (PRIMARY)
       WHERE term >= ${from} ORDER BY term, product_id LIMIT 1 OFFSET ${BATCH}`.execute(db);
    const last = rows[0]?.term;
    let end: string | undefined;
    if (last !== undefined) {
      const next = await sql<{ term: string | null }>`
        SELECT MIN(term) AS term FROM product_search_terms WHERE term > ${last}`.execute(db);
      end = next.rows[0]?.term ?? undefined;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await backfillRange(db, from, end);
        break;
      } catch (err) {
        if (!isRetryableLockError(err) || attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
    if (end === undefined) break;
    from = end;
  }

  await sql`
    INSERT INTO counters (name, value) VALUES ('term_counts_ready', 1)
    ON DUPLICATE KEY UPDATE value = 1`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are forward-only');
}
