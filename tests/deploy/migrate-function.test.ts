import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import { createConnection } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../lib/db/migrations';
import { handler } from '../../functions/system/migrate';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';
import { pointProcessAt } from '../../scripts/lib/process-db';

const runUrl = process.env.DATABASE_URL as string;
const serverUrl = serverUrlOf(runUrl);
const fresh = `shop_test_${Date.now()}_migfn_${randomBytes(3).toString('hex')}`;

let restore: (() => Promise<void>) | undefined;

afterAll(async () => {
  await restore?.();
  await dropDatabase(serverUrl, fresh);
});

describe('the migrate function (run after each deploy)', () => {
  it('applies every migration to an empty database, then finds nothing left to apply', async () => {
    await createDatabase(serverUrl, fresh);
    restore = await pointProcessAt(withDatabase(serverUrl, fresh));

    expect(await handler()).toEqual({ applied: Object.keys(migrations) });
    expect(await handler()).toEqual({ applied: [] });

    const conn = await createConnection({ uri: withDatabase(serverUrl, fresh) });
    try {
      const [rows] = await conn.query<RowDataPacket[]>('SHOW TABLES');
      const tables = rows.map((r) => String(Object.values(r)[0]));
      expect(tables).toEqual(expect.arrayContaining(['products', 'orders', 'order_lines', 'stock_movements']));
    } finally {
      await conn.end();
    }
  });
});
