import { z } from 'zod';

/**
 * The only module that reads process.env. Everything is validated once, on first use, and a bad
 * variable stops start-up with a message naming it.
 */
export const DEV_ADMIN_API_KEY = 'dev-admin-key-change-me';
const DEFAULT_DATABASE_URL = 'mysql://root@127.0.0.1:3306/shop';

const intFromEnv = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** An unset variable and an empty one mean the same (serverless.yml writes '' for "not on this stage"). */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  STAGE: z.string().min(1).default('dev'),
  DATABASE_URL: z
    .string()
    .default(DEFAULT_DATABASE_URL)
    .refine((v) => /^mysql:\/\/[^/]+\/[A-Za-z0-9_$-]+(\?.*)?$/.test(v), {
      message: 'must look like mysql://user:password@host:port/database',
    }),
  DATABASE_READ_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^mysql:\/\/[^/]+\/[A-Za-z0-9_$-]+(\?.*)?$/.test(v), {
      message: 'must look like mysql://user:password@host:port/database',
    }),
  ADMIN_API_KEY: z.string().optional(),
  /** prod: Secrets Manager ARN whose SecretString is the admin key(s), comma-separated (instead of ADMIN_API_KEY). */
  ADMIN_API_KEY_SECRET_ARN: optionalString,
  /** prod: Secrets Manager ARN of the RDS secret ({"username","password"}); overrides credentials in the URLs. */
  DB_SECRET_ARN: optionalString,
  /** How long a fetched secret is reused before Secrets Manager is asked again. */
  SECRETS_CACHE_TTL_S: intFromEnv(0, 86_400, 300),
  /** TLS to the database (RDS Proxy presents a publicly trusted certificate). */
  DB_TLS: z.enum(['true', 'false']).default('false'),
  CACHE_MAX_AGE_S: intFromEnv(0, 86_400, 5),
  DB_POOL_SIZE: intFromEnv(1, 64, 2),
  DB_CONNECT_TIMEOUT_MS: intFromEnv(100, 60_000, 2_000),
  /** Set per session on connect. 0 = leave the server's value (e.g. set in an RDS parameter group). */
  DB_LOCK_WAIT_TIMEOUT_S: intFromEnv(0, 3_600, 3),
  DB_MAX_RETRIES: intFromEnv(0, 10, 3),
  /** Client-side deadline of each statement, so a database that stops answering gives a 503 (0 = none). */
  DB_STATEMENT_TIMEOUT_MS: intFromEnv(0, 600_000, 6_000),
  HEALTH_TIMEOUT_MS: intFromEnv(100, 30_000, 1_500),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  POWERTOOLS_SERVICE_NAME: z.string().default('shop-api'),
  METRICS_NAMESPACE: z.string().default('ShopApi'),
  /** CloudWatch EMF lines on stdout; the test setup turns them off unless a test asks. */
  METRICS_ENABLED: z.enum(['true', 'false', '1', '0']).default('true'),
});

export type Config = {
  stage: string;
  databaseUrl: string;
  databaseReadUrl: string | undefined;
  /** Empty when the keys come from Secrets Manager (adminApiKeySecretArn); see lib/secrets.ts. */
  adminApiKeys: string[];
  adminApiKeySecretArn: string | undefined;
  dbSecretArn: string | undefined;
  secretsCacheTtlS: number;
  dbTls: boolean;
  cacheMaxAgeS: number;
  dbPoolSize: number;
  dbConnectTimeoutMs: number;
  dbLockWaitTimeoutS: number;
  dbMaxRetries: number;
  dbStatementTimeoutMs: number;
  healthTimeoutMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  serviceName: string;
  metricsNamespace: string;
  metricsEnabled: boolean;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const fromEnv = e.ADMIN_API_KEY ?? '';
  if (e.ADMIN_API_KEY_SECRET_ARN && fromEnv.trim() !== '') {
    throw new ConfigError(
      'Invalid configuration:\n  ADMIN_API_KEY: set either ADMIN_API_KEY or ADMIN_API_KEY_SECRET_ARN, not both',
    );
  }
  if (e.STAGE === 'prod') {
    // A password in an environment variable is readable by anyone who may read the function's
    // configuration; prod takes it from Secrets Manager at run time instead.
    for (const [name, url] of [
      ['DATABASE_URL', e.DATABASE_URL],
      ['DATABASE_READ_URL', e.DATABASE_READ_URL],
    ] as const) {
      if (url && /^mysql:\/\/[^/@]*:[^/@]*@/.test(url)) {
        throw new ConfigError(`Invalid configuration:\n  ${name}: no password on the prod stage; set DB_SECRET_ARN`);
      }
    }
  }
  // With a secret ARN the keys are fetched (and checked by parseAdminApiKeys) on first admin request.
  const keys = e.ADMIN_API_KEY_SECRET_ARN ? [] : parseAdminApiKeys(fromEnv, e.STAGE, 'ADMIN_API_KEY');
  return {
    stage: e.STAGE,
    databaseUrl: e.DATABASE_URL,
    databaseReadUrl: e.DATABASE_READ_URL ? e.DATABASE_READ_URL : undefined,
    adminApiKeys: keys,
    adminApiKeySecretArn: e.ADMIN_API_KEY_SECRET_ARN,
    dbSecretArn: e.DB_SECRET_ARN,
    secretsCacheTtlS: e.SECRETS_CACHE_TTL_S,
    dbTls: e.DB_TLS === 'true',
    cacheMaxAgeS: e.CACHE_MAX_AGE_S,
    dbPoolSize: e.DB_POOL_SIZE,
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    dbLockWaitTimeoutS: e.DB_LOCK_WAIT_TIMEOUT_S,
    dbMaxRetries: e.DB_MAX_RETRIES,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    healthTimeoutMs: e.HEALTH_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    serviceName: e.POWERTOOLS_SERVICE_NAME,
    metricsNamespace: e.METRICS_NAMESPACE,
    metricsEnabled: e.METRICS_ENABLED === 'true' || e.METRICS_ENABLED === '1',
  };
}

/**
 * The admin keys in `raw` (comma-separated). Without any key the development default applies,
 * except on prod, which refuses to start without real keys (at least 24 characters each).
 */
export function parseAdminApiKeys(raw: string, stage: string, source: string): string[] {
  const keys = raw
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (keys.length === 0) {
    if (stage === 'prod') {
      throw new ConfigError(`Invalid configuration:\n  ${source}: required on the prod stage`);
    }
    keys.push(DEV_ADMIN_API_KEY);
  }
  if (stage === 'prod' && keys.some((k) => k === DEV_ADMIN_API_KEY || k.length < 24)) {
    throw new ConfigError(
      `Invalid configuration:\n  ${source}: on prod every key must be at least 24 characters and not the development default`,
    );
  }
  return keys;
}

let cached: Config | undefined;

/** The process-wide configuration, read and validated on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}

/** Tests only: forget the cached configuration so a changed environment is read again. */
export function resetConfigForTests(): void {
  cached = undefined;
}
