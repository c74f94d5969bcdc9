import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { closeDb, db } from '../../lib/db/client';
import { nameKeyOf, termsOf } from '../../lib/products/search';

afterAll(async () => {
  await closeDb();
});

const root = join(__dirname, '..', '..');

/** Runs `npm run seed -- …` as the real script, against this run's test database. */
const seed = (...args: string[]) =>
  spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['scripts/seed.ts', ...args], {
    cwd: root,
    env: { ...process.env },
    encoding: 'utf8',
    timeout: 120_000,
  });

const liveCounter = async () =>
  Number(
    (await db().selectFrom('counters').select('value').where('name', '=', 'live_products').executeTakeFirstOrThrow())
      .value,
  );

const liveCount = async () =>
  Number(
    (
      await db()
        .selectFrom('products')
        .select(sql<number>`COUNT(*)`.as('n'))
        .where('archived_at', 'is', null)
        .executeTakeFirstOrThrow()
    ).n,
  );

const seeded = () =>
  db()
    .selectFrom('products as p')
    .leftJoin('stock_movements as m', 'm.product_id', 'p.id')
    .leftJoin('stock_shards as s', 's.product_id', 'p.id')
    .select(['p.id', 'p.name', 's.shard_no', 's.stock', 'p.price_cents', 'm.delta', 'm.reason'])
    .where('p.name', 'like', '#%')
    .orderBy('p.id')
    .execute();

describe('npm run seed', () => {
  it('adds N products in batches with one created movement each and keeps the live counter exact', async () => {
    const before = { rows: await seeded(), counter: await liveCounter() };
    const res = seed('--count', '7', '--batch-size', '3', '--concurrency', '2');
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/seeded 7 products .* products\/s/);

    const after = await seeded();
    const added = after.slice(before.rows.length);
    expect(added).toHaveLength(7);
    for (const p of added) {
      expect(p.reason).toBe('created');
      expect(p.shard_no, 'one shard, number 0').toBe(0);
      expect(p.delta).toBe(p.stock);
      expect(p.stock).toBeGreaterThan(0);
      expect(p.price_cents).toBeGreaterThan(0);
    }
    expect(new Set(added.map((p) => p.name)).size).toBe(7);
    // Searchable as soon as the batch commits: name_key and every term written with the product.
    for (const p of added) {
      const row = await db().selectFrom('products').select('name_key').where('id', '=', p.id).executeTakeFirstOrThrow();
      expect(row.name_key).toBe(nameKeyOf(p.name));
      const terms = await db()
        .selectFrom('product_search_terms')
        .select('term')
        .where('product_id', '=', p.id)
        .execute();
      expect(terms.map((t) => t.term).sort()).toEqual(termsOf(p.name).sort());
    }
    expect(await liveCounter()).toBe(before.counter + 7);
    expect(await liveCounter()).toBe(await liveCount());
  });

  it('continues numbering after the seed names already live, so a second run never collides', async () => {
    const res1 = seed('--count', '2');
    expect(res1.status, res1.stderr).toBe(0);
    const names1 = (await seeded()).map((p) => p.name).sort();
    const res2 = seed('--count', '2');
    expect(res2.status, res2.stderr).toBe(0);
    const names2 = (await seeded()).map((p) => p.name).sort();
    const top = names1.at(-1) ?? '';
    const added = names2.filter((n) => !names1.includes(n));
    expect(added).toHaveLength(2);
    const num = (n: string) => Number(n.slice(1, 8));
    expect(added.map(num)).toEqual([num(top) + 1, num(top) + 2]);
  });

  it('rejects a bad count with the usage and writes nothing', async () => {
    const counter = await liveCounter();
    const res = seed('--count', 'lots');
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('usage: npm run seed');
    expect(await liveCounter()).toBe(counter);
  });
});
