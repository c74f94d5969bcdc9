/**
 * The prod path for secrets, end to end on this machine: the real Powertools provider and AWS SDK
 * client talk HTTP to a stand-in Secrets Manager on 127.0.0.1 (AWS_ENDPOINT_URL_SECRETS_MANAGER),
 * and the database credentials it hands out belong to a real MySQL user made for this file.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DEV_ADMIN_API_KEY, loadConfig, resetConfigForTests } from '../../lib/config';
import { closeDb, createDb, db } from '../../lib/db/client';
import { DatabaseUnavailableError } from '../../lib/errors';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { invoke } from '../../scripts/lib/lambda';

const rootUrl = process.env.DATABASE_URL as string;
const dbName = new URL(rootUrl).pathname.slice(1);
const user = `shop_sec_${randomBytes(4).toString('hex')}`;
const hosts = ['%', 'localhost'];
const ADMIN_KEY = `admin-${randomBytes(16).toString('hex')}`;

/** SecretId → SecretString; a missing id answers like Secrets Manager's ResourceNotFound. */
const secrets = new Map<string, string>();
const requests: string[] = [];
let failing = false;
let server: Server;

const arn = (name: string) =>
  `arn:aws:secretsmanager:eu-west-1:000000000000:secret:${name}-${randomBytes(3).toString('hex')}`;

async function root<T>(fn: (conn: Awaited<ReturnType<typeof createConnection>>) => Promise<T>): Promise<T> {
  const conn = await createConnection({ uri: rootUrl });
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

async function setPassword(password: string): Promise<void> {
  await root(async (conn) => {
    for (const host of hosts) await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [user, host, password]);
  });
}

function useProdEnv(env: Record<string, string>): void {
  const url = new URL(rootUrl);
  Object.assign(process.env, {
    STAGE: 'prod',
    DATABASE_URL: `mysql://${url.host}/${dbName}`, // no credentials: they come from the secret
    ADMIN_API_KEY: '',
    DB_LOCK_WAIT_TIMEOUT_S: '0',
    ...env,
  });
  resetConfigForTests();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const id = (JSON.parse(body || '{}') as { SecretId?: string }).SecretId ?? '';
      requests.push(`${target} ${id}`);
      res.setHeader('Content-Type', 'application/x-amz-json-1.1');
      if (failing) {
        res.statusCode = 500;
        res.end(JSON.stringify({ __type: 'InternalServiceError', message: 'down' }));
      } else if (target !== 'secretsmanager.GetSecretValue' || !secrets.has(id)) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
      } else {
        res.end(JSON.stringify({ ARN: id, Name: id, SecretString: secrets.get(id), VersionId: 'v1' }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  // Read by the AWS SDK itself, not by lib/: a fake region, credentials and endpoint.
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDTESTONLY',
    AWS_SECRET_ACCESS_KEY: 'test-only',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${port}`,
    AWS_MAX_ATTEMPTS: '1',
  });
  await root(async (conn) => {
    for (const host of hosts) {
      await conn.query('CREATE USER ?@? IDENTIFIED BY ?', [user, host, 'first-password-1']);
      await conn.query(`GRANT SELECT ON \`${dbName}\`.* TO ?@?`, [user, host]);
    }
  });
});

beforeEach(async () => {
  await closeDb();
  failing = false;
  requests.length = 0;
});

afterAll(async () => {
  await closeDb();
  await root(async (conn) => {
    for (const host of hosts) await conn.query('DROP USER IF EXISTS ?@?', [user, host]);
  });
  await new Promise((resolve) => server.close(resolve));
});

const whoAmI = async (d = db()) => {
  const { rows } = await sql<{ me: string }>`SELECT CURRENT_USER() AS me`.execute(d);
  return rows[0]?.me ?? '';
};

describe('database credentials from Secrets Manager', () => {
  it('connects as the secret user, asking Secrets Manager once for many queries', async () => {
    const dbSecret = arn('db');
    await setPassword('first-password-1');
    secrets.set(dbSecret, JSON.stringify({ username: user, password: 'first-password-1', engine: 'mysql' }));
    useProdEnv({ DB_SECRET_ARN: dbSecret, ADMIN_API_KEY_SECRET_ARN: arn('admin') });

    for (let i = 0; i < 5; i++) expect(await whoAmI()).toMatch(new RegExp(`^${user}@`));
    expect(requests).toEqual([`secretsmanager.GetSecretValue ${dbSecret}`]);
  });

  it('after a rotation, re-reads the secret on the refused login and connects with the new password', async () => {
    const dbSecret = arn('db-rotated');
    await setPassword('before-rotation-1');
    secrets.set(dbSecret, JSON.stringify({ username: user, password: 'before-rotation-1' }));
    useProdEnv({ DB_SECRET_ARN: dbSecret, ADMIN_API_KEY_SECRET_ARN: arn('admin') });
    expect(await whoAmI()).toMatch(new RegExp(`^${user}@`));

    // Rotate: the server and the secret change; this process still caches the old value.
    await setPassword('after-rotation-2');
    secrets.set(dbSecret, JSON.stringify({ username: user, password: 'after-rotation-2' }));
    const fresh = createDb(process.env.DATABASE_URL as string, { poolSize: 1 });
    try {
      expect(await whoAmI(fresh)).toMatch(new RegExp(`^${user}@`));
    } finally {
      await fresh.destroy();
    }
    expect(requests.filter((r) => r.endsWith(dbSecret))).toHaveLength(2);
  });

  it('answers 503 database_unavailable while Secrets Manager fails, and recovers in the same process', async () => {
    const dbSecret = arn('db-outage');
    await setPassword('outage-password-1');
    secrets.set(dbSecret, JSON.stringify({ username: user, password: 'outage-password-1' }));
    useProdEnv({ DB_SECRET_ARN: dbSecret, ADMIN_API_KEY_SECRET_ARN: arn('admin') });

    failing = true;
    const err = await whoAmI().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect((err as DatabaseUnavailableError).code).toBe('database_unavailable');

    failing = false;
    expect(await whoAmI()).toMatch(new RegExp(`^${user}@`));
  });

  it('treats a secret without username/password as unavailable, never connecting without credentials', async () => {
    const dbSecret = arn('db-bad');
    secrets.set(dbSecret, JSON.stringify({ password: 'no-user' }));
    useProdEnv({ DB_SECRET_ARN: dbSecret, ADMIN_API_KEY_SECRET_ARN: arn('admin') });
    await expect(whoAmI()).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });
});

describe('admin key from Secrets Manager', () => {
  const adminHandler = endpoint({ functionName: 'test', admin: true }, async () => json(200, { ok: true }));

  it('accepts the key held in the secret and rejects any other, the development default included', async () => {
    const adminSecret = arn('admin-ok');
    secrets.set(adminSecret, `  ${ADMIN_KEY} , ${ADMIN_KEY}-next `);
    useProdEnv({ ADMIN_API_KEY_SECRET_ARN: adminSecret });

    const ok = await invoke(adminHandler, { path: '/x', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(ok.status).toBe(200);
    const next = await invoke(adminHandler, { path: '/x', headers: { authorization: `Bearer ${ADMIN_KEY}-next` } });
    expect(next.status).toBe(200);
    const dev = await invoke(adminHandler, { path: '/x', admin: true });
    expect(dev.status).toBe(401);
    expect(dev.body).toMatchObject({ code: 'unauthorized' });
    expect(requests.filter((r) => r.endsWith(adminSecret))).toHaveLength(1);
  });

  it('refuses a secret holding a short or development key with a 500, letting nobody in', async () => {
    const adminSecret = arn('admin-weak');
    secrets.set(adminSecret, 'short-key');
    useProdEnv({ ADMIN_API_KEY_SECRET_ARN: adminSecret });
    const res = await invoke(adminHandler, { path: '/x', headers: { authorization: 'Bearer short-key' } });
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('short-key');
  });
});

describe('admin key from Secrets Manager on AWS Lambda, another stage name', () => {
  const adminHandler = endpoint({ functionName: 'test', admin: true }, async () => json(200, { ok: true }));

  it('refuses admin requests when the secret holds the development key (500), letting nobody in', async () => {
    const adminSecret = arn('admin-dev-on-lambda');
    secrets.set(adminSecret, DEV_ADMIN_API_KEY);
    useProdEnv({
      STAGE: 'staging',
      AWS_LAMBDA_FUNCTION_NAME: 'shop-api-staging-x',
      ADMIN_API_KEY_SECRET_ARN: adminSecret,
    });
    try {
      const res = await invoke(adminHandler, { path: '/x', admin: true });
      expect(res.status).toBe(500);
      expect(res.text).not.toContain(DEV_ADMIN_API_KEY);
    } finally {
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      resetConfigForTests();
    }
    // The same secret, locally (no Lambda variables) on that stage: the development key is let in.
    useProdEnv({ STAGE: 'staging', ADMIN_API_KEY_SECRET_ARN: adminSecret });
    expect((await invoke(adminHandler, { path: '/x', admin: true })).status).toBe(200);
  });
});

describe('prod configuration refuses to start', () => {
  const base = { STAGE: 'prod', DATABASE_URL: 'mysql://proxy.example:3306/shop' };

  it('without an admin key or an admin key secret', () => {
    expect(() => loadConfig({ ...base })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ADMIN_API_KEY_SECRET_ARN: arn('a') })).not.toThrow();
  });

  it('with both an admin key and an admin key secret', () => {
    expect(() => loadConfig({ ...base, ADMIN_API_KEY: ADMIN_KEY, ADMIN_API_KEY_SECRET_ARN: arn('a') })).toThrow(
      /either ADMIN_API_KEY or ADMIN_API_KEY_SECRET_ARN/,
    );
  });

  it('with a password in DATABASE_URL or DATABASE_READ_URL', () => {
    const key = { ADMIN_API_KEY: ADMIN_KEY };
    expect(() => loadConfig({ ...base, ...key, DATABASE_URL: 'mysql://app:hunter2@proxy:3306/shop' })).toThrow(
      /DATABASE_URL/,
    );
    expect(() => loadConfig({ ...base, ...key, DATABASE_READ_URL: 'mysql://app:hunter2@ro:3306/shop' })).toThrow(
      /DATABASE_READ_URL/,
    );
    expect(() => loadConfig({ ...base, ...key, DATABASE_URL: 'mysql://app@proxy:3306/shop' })).not.toThrow();
  });
});
