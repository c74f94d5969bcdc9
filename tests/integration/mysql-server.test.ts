import { existsSync } from 'node:fs';
import type { RowDataPacket } from 'mysql2';
import { createConnection } from 'mysql2/promise';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  canConnect,
  createDatabase,
  dropDatabase,
  resolveServer,
  startLocalServer,
  withDatabase,
} from '../../scripts/lib/mysql-server';
import { skipWithoutServerBinary } from '../support/requires';

// Really starts mariadbd/mysqld: allow for a slow, busy machine.
const START_TIMEOUT = 120_000;

async function queryOne<T extends RowDataPacket>(url: string, sql: string, params: unknown[] = []): Promise<T> {
  const conn = await createConnection({ uri: url });
  try {
    const [rows] = await conn.query<T[]>(sql, params);
    const row = rows[0];
    if (row === undefined) throw new Error(`no row from ${sql}`);
    return row;
  } finally {
    await conn.end();
  }
}

describe.skipIf(skipWithoutServerBinary('startLocalServer'))('startLocalServer', () => {
  it(
    'starts a throwaway server on a free port that answers queries, and stop() removes it',
    async () => {
      const server = await startLocalServer({ dataDir: '', ephemeral: true });
      let dataDir = '';
      try {
        const port = Number(new URL(server.url).port);
        expect(port).toBeGreaterThan(0);
        expect(port).not.toBe(3306);

        const row = await queryOne<{ port: number; dir: string; charset: string } & RowDataPacket>(
          server.url,
          'SELECT @@port AS port, @@datadir AS dir, @@character_set_server AS charset',
        );
        expect(row.port).toBe(port);
        expect(row.charset).toBe('utf8mb4');
        dataDir = row.dir;
        expect(existsSync(dataDir)).toBe(true);
      } finally {
        await server.stop();
      }
      expect(await canConnect(server.url, 1_000)).toBe(false);
      expect(existsSync(dataDir)).toBe(false);
    },
    START_TIMEOUT,
  );

  it(
    'createDatabase creates a utf8mb4 database that stores any Unicode text unchanged',
    async () => {
      const server = await startLocalServer({ dataDir: '', ephemeral: true });
      try {
        expect(await createDatabase(server.url, 'shop_charset')).toBe(true);
        expect(await createDatabase(server.url, 'shop_charset')).toBe(false); // already there

        const schema = await queryOne<{ charset: string; collation: string } & RowDataPacket>(
          server.url,
          `SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation
             FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'shop_charset'`,
        );
        expect(schema).toMatchObject({ charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' });

        const url = withDatabase(server.url, 'shop_charset');
        const conn = await createConnection({ uri: url, charset: 'utf8mb4_unicode_ci' });
        try {
          await conn.query('CREATE TABLE t (name VARCHAR(255) NOT NULL)');
          await conn.query('INSERT INTO t (name) VALUES (?)', ['Café ☕ 杯子 🛒']);
          const [rows] = await conn.query<Array<{ name: string } & RowDataPacket>>('SELECT name FROM t');
          expect(rows.map((r) => r.name)).toEqual(['Café ☕ 杯子 🛒']);
        } finally {
          await conn.end();
        }

        await dropDatabase(server.url, 'shop_charset');
        const gone = await createConnection({ uri: server.url });
        try {
          const [rows] = await gone.query<RowDataPacket[]>(
            "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'shop_charset'",
          );
          expect(rows).toHaveLength(0);
        } finally {
          await gone.end();
        }
      } finally {
        await server.stop();
      }
    },
    START_TIMEOUT,
  );

  it('rejects database names that are not plain identifiers', async () => {
    await expect(createDatabase('mysql://root@127.0.0.1:1', 'shop`; DROP DATABASE x; --')).rejects.toThrow(
      /Invalid database name/,
    );
    expect(() => withDatabase('mysql://root@127.0.0.1:1', 'a-b')).toThrow(/Invalid database name/);
  });
});

describe.skipIf(skipWithoutServerBinary('resolveServer'))('resolveServer', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it(
    'starts a throwaway server in test mode when no URL is set and nothing answers on the probed address',
    async () => {
      vi.stubEnv('TEST_DATABASE_URL', undefined);
      vi.stubEnv('DATABASE_URL', undefined);
      vi.stubEnv('SHOP_DB_PROBE_URL', 'mysql://root@127.0.0.1:1'); // port 1: nothing listens there
      const server = await resolveServer('test');
      try {
        expect(server.started).toBe(true);
        expect(await canConnect(server.url)).toBe(true);
      } finally {
        await server.stop();
      }
      expect(await canConnect(server.url, 1_000)).toBe(false);
    },
    START_TIMEOUT,
  );

  it('uses TEST_DATABASE_URL as given, without its database part, and never stops it', async () => {
    const runUrl = process.env.DATABASE_URL ?? '';
    vi.stubEnv('TEST_DATABASE_URL', runUrl);
    const server = await resolveServer('test');
    expect(server).toMatchObject({ started: false, source: 'TEST_DATABASE_URL' });
    expect(new URL(server.url).pathname).toBe('');
    await server.stop();
    expect(await canConnect(server.url)).toBe(true);
  });
});
