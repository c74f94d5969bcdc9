import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../lib/db/client';
import { DeferredWrites, packStatements, runSql } from '../../lib/db/compiled';
import { recordCommands } from '../../scripts/lib/sent-commands';
import { withSqlTransaction } from '../../lib/db/transaction';
import { type IsolatedDatabase, useIsolatedDatabase } from '../support/isolated-db';

/**
 * The order path's transactions on one pooled connection without Kysely's per-statement layers
 * (lib/db/session.ts): the same all-or-nothing, connection and pool rules as a Kysely transaction.
 */
let isolated: IsolatedDatabase;

beforeAll(async () => {
  isolated = await useIsolatedDatabase('shop_session');
});
afterAll(async () => {
  await isolated.drop();
});

const connectionsTo = async (name: string): Promise<number> => {
  const probe = createDb(isolated.url, { poolSize: 1 });
  try {
    const { rows } = await sql<{ n: number | string }>`
      SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ${name}`.execute(probe);
    return Number(rows[0]?.n ?? 0) - 1; // less the probe's own
  } finally {
    await probe.destroy();
  }
};

describe('withSqlTransaction', () => {
  it('commits on success and answers rows, insert ids and affected counts as Kysely does', async () => {
    const db = createDb(isolated.url, { poolSize: 2 });
    try {
      const result = await withSqlTransaction(db, async (s) => {
        const ins = await runSql(s, 'insert into `counters` (`name`, `value`) values (?, ?)', ['session_a', 5]);
        const upd = await runSql(s, 'update `counters` set `value` = `value` + 1 where `name` = ?', ['session_a']);
        const sel = await runSql<{ value: number }>(s, 'select `value` from `counters` where `name` = ?', [
          'session_a',
        ]);
        return { ins, upd, rows: sel.rows };
      });
      expect(result.upd.numAffectedRows).toBe(1n);
      expect(result.ins.numAffectedRows).toBe(1n);
      expect(result.rows).toEqual([{ value: 6 }]);
      const after = await db.selectFrom('counters').select('value').where('name', '=', 'session_a').executeTakeFirst();
      expect(after?.value).toBe(6);
    } finally {
      await db.destroy();
    }
  });

  it('rolls everything back when the function throws, and the connection serves the next transaction', async () => {
    const db = createDb(isolated.url, { poolSize: 1 });
    try {
      await expect(
        withSqlTransaction(db, async (s) => {
          await runSql(s, 'insert into `counters` (`name`, `value`) values (?, ?)', ['session_b', 1]);
          throw new Error('rejected after a write');
        }),
      ).rejects.toThrow('rejected after a write');
      // Pool of one: a connection not released (or left inside the transaction) would hang or leak the row.
      const seen = await withSqlTransaction(db, (s) =>
        runSql(s, 'select count(*) as n from `counters` where `name` = ?', ['session_b']),
      );
      expect(Number((seen.rows[0] as { n: number }).n)).toBe(0);
    } finally {
      await db.destroy();
    }
  });

  it('destroy ends the pool even when only sessions used it (no connection left open)', async () => {
    const db = createDb(isolated.url, { poolSize: 2 });
    await withSqlTransaction(db, (s) => runSql(s, 'select 1', []));
    expect(await connectionsTo(isolated.name)).toBeGreaterThanOrEqual(1);
    await db.destroy();
    await expect.poll(() => connectionsTo(isolated.name), { timeout: 5_000 }).toBe(0);
  });
});

describe('commitWith: the last statements and COMMIT in one query (docs/decisions/0016)', () => {
  const value = async (db: ReturnType<typeof createDb>, name: string) =>
    (await db.selectFrom('counters').select('value').where('name', '=', name).executeTakeFirst())?.value;

  it('runs them in order, commits, and answers one result per statement', async () => {
    const db = createDb(isolated.url, { poolSize: 1 });
    try {
      const results = await withSqlTransaction(db, async (s) => {
        await runSql(s, 'insert into `counters` (`name`, `value`) values (?, ?)', ['batch_a', 5]);
        if (!s.commitWith) throw new Error('a session transaction offers commitWith');
        return s.commitWith([
          { sql: 'select `value` from `counters` where `name` = ? for update', parameters: ['batch_a'] },
          { sql: 'update `counters` set `value` = `value` - ? where `name` = ?', parameters: [2, 'batch_a'] },
        ]);
      });
      expect(results.map((r) => r.rows)).toEqual([[{ value: 5 }], []]);
      expect(results[1]?.numAffectedRows).toBe(1n);
      expect(await value(db, 'batch_a')).toBe(3);
    } finally {
      await db.destroy();
    }
  });

  it('a failing statement stops the query before its COMMIT: nothing of the transaction stays', async () => {
    const db = createDb(isolated.url, { poolSize: 1 });
    try {
      await expect(
        withSqlTransaction(db, async (s) => {
          await runSql(s, 'insert into `counters` (`name`, `value`) values (?, ?)', ['batch_b', 1]);
          await s.commitWith?.([
            { sql: 'update `counters` set `value` = `value` + 1 where `name` = ?', parameters: ['batch_b'] },
            // Out of range: BIGINT can't hold it, the statement fails (errno 1690) and the query stops.
            {
              sql: 'update `counters` set `value` = `value` + ? where `name` = ?',
              parameters: [2n ** 63n - 1n, 'batch_b'],
            },
          ]);
        }),
      ).rejects.toMatchObject({ errno: 1690 });
      // Rolled back, the insert and the first update included; the one connection serves the next.
      expect(await value(db, 'batch_b')).toBeUndefined();
      // The pool's one connection, outside any transaction: the rollback ended it.
      const { rows } = await sql<{ t: number }>`select @@in_transaction as t`.execute(db);
      expect(rows).toEqual([{ t: 0 }]);
    } finally {
      await db.destroy();
    }
  });
});

describe('DeferredWrites: writes collected, then sent as few queries as fit 14 KB', () => {
  const value = async (db: ReturnType<typeof createDb>, name: string) =>
    (await db.selectFrom('counters').select('value').where('name', '=', name).executeTakeFirst())?.value;
  const insert = (name: string, v: number) => ({
    sql: 'insert into `counters` (`name`, `value`) values (?, ?)',
    parameters: [name, v],
  });

  it('packs consecutive statements under the limit, in order, one group at least per statement over it', () => {
    const small = [insert('a', 1), insert('b', 2), insert('c', 3)];
    expect(packStatements(small)).toEqual([small]);
    const big = { sql: `select ${'1 + '.repeat(2_000)}1`, parameters: [] };
    expect(packStatements([small[0], big, small[1]] as never[], 8_050).map((g) => g.length)).toEqual([1, 1, 1]);
    expect(packStatements([small[0], small[1], big] as never[], 8_050).map((g) => g.length)).toEqual([2, 1]);
  });

  it('sends them in one round trip in a session transaction; a failing one stops the rest and rolls all back', async () => {
    const db = createDb(isolated.url, { poolSize: 1 });
    try {
      const log = await recordCommands(async () => {
        await withSqlTransaction(db, async (s) => {
          const writes = new DeferredWrites(s);
          await runSql(writes, insert('deferred_a', 1).sql, insert('deferred_a', 1).parameters);
          await runSql(writes, insert('deferred_b', 2).sql, insert('deferred_b', 2).parameters);
          await writes.flush();
        });
      });
      expect(
        log
          .filter((c) => c.command === 'Query')
          .map((c) => c.sql?.split(';\n').length)
          .slice(-3),
      ).toEqual([1, 2, 1]); // begin, the writes, commit
      expect([await value(db, 'deferred_a'), await value(db, 'deferred_b')]).toEqual([1, 2]);

      await expect(
        withSqlTransaction(db, async (s) => {
          const writes = new DeferredWrites(s);
          await runSql(writes, insert('deferred_c', 3).sql, insert('deferred_c', 3).parameters);
          await runSql(writes, insert('deferred_a', 9).sql, insert('deferred_a', 9).parameters); // duplicate key
          await runSql(writes, insert('deferred_d', 4).sql, insert('deferred_d', 4).parameters);
          await writes.flush();
        }),
      ).rejects.toMatchObject({ errno: 1062 });
      expect([await value(db, 'deferred_c'), await value(db, 'deferred_d')]).toEqual([undefined, undefined]);
    } finally {
      await db.destroy();
    }
  });
});
