import { z } from 'zod';

/**
 * The only module that reads process.env. Everything is validated once, on first use, and a bad
 * variable stops start-up with a message naming it.
 */
export const DEV_ADMIN_API_KEY = 'dev-admin-key-change-me';
const DEFAULT_DATABASE_URL = 'mysql://root@127.0.0.1:3306/shop';

const intFromEnv = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

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
  CACHE_MAX_AGE_S: intFromEnv(0, 86_400, 5),
  DB_POOL_SIZE: intFromEnv(1, 64, 2),
  DB_CONNECT_TIMEOUT_MS: intFromEnv(100, 60_000, 2_000),
  /** Set per session on connect. 0 = leave the server's value (e.g. set in an RDS parameter group). */
  DB_LOCK_WAIT_TIMEOUT_S: intFromEnv(0, 3_600, 3),
  DB_MAX_RETRIES: intFromEnv(0, 10, 3),
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
  adminApiKeys: string[];
  cacheMaxAgeS: number;
  dbPoolSize: number;
  dbConnectTimeoutMs: number;
  dbLockWaitTimeoutS: number;
  dbMaxRetries: number;
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
  const keys = (e.ADMIN_API_KEY ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (keys.length === 0) {
    if (e.STAGE === 'prod') {
      throw new ConfigError('Invalid configuration:\n  ADMIN_API_KEY: required on the prod stage');
    }
    keys.push(DEV_ADMIN_API_KEY);
  }
  if (e.STAGE === 'prod' && keys.some((k) => k === DEV_ADMIN_API_KEY || k.length < 24)) {
    throw new ConfigError(
      'Invalid configuration:\n  ADMIN_API_KEY: on prod every key must be at least 24 characters and not the development default',
    );
  }
  return {
    stage: e.STAGE,
    databaseUrl: e.DATABASE_URL,
    databaseReadUrl: e.DATABASE_READ_URL ? e.DATABASE_READ_URL : undefined,
    adminApiKeys: keys,
    cacheMaxAgeS: e.CACHE_MAX_AGE_S,
    dbPoolSize: e.DB_POOL_SIZE,
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    dbLockWaitTimeoutS: e.DB_LOCK_WAIT_TIMEOUT_S,
    dbMaxRetries: e.DB_MAX_RETRIES,
    healthTimeoutMs: e.HEALTH_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    serviceName: e.POWERTOOLS_SERVICE_NAME,
    metricsNamespace: e.METRICS_NAMESPACE,
    metricsEnabled: e.METRICS_ENABLED === 'true' || e.METRICS_ENABLED === '1',
  };
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
