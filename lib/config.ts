import { z } from 'zod';

/**
 * The only module that reads process.env for settings (lib/observability/env-snapshot.ts copies it, for
 * Powertools). Everything is validated once, on first use, and a bad variable stops start-up with a
 * message naming it.
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
  /** Where this process runs (see runtimeOf). */
  runtime: Runtime;
  /**
   * True on AWS Lambda (whatever the stage is called) and on the prod stage anywhere: no
   * development admin key, real keys only, no password in a database URL.
   */
  requireRealSecrets: boolean;
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

export type Runtime = 'lambda' | 'local';

/**
 * 'lambda' when AWS Lambda runs this process: the Lambda runtime sets AWS_LAMBDA_FUNCTION_NAME
 * (and AWS_EXECUTION_ENV=AWS_Lambda_…). serverless-offline sets those too, but also IS_OFFLINE;
 * `osls invoke local` sets IS_LOCAL: both are 'local', as are tests and scripts, which set none.
 * The stage's name plays no part: a function deployed as `staging` or `dev` is on Lambda all the same.
 */
export function runtimeOf(env: NodeJS.ProcessEnv): Runtime {
  const local = Boolean(env.IS_OFFLINE) || Boolean(env.IS_LOCAL);
  const lambda = Boolean(env.AWS_LAMBDA_FUNCTION_NAME) || (env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_');
  return lambda && !local ? 'lambda' : 'local';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const runtime = runtimeOf(env);
  const requireRealSecrets = runtime === 'lambda' || env.STAGE === 'prod';
  const strictWhere = requireRealSecrets ? (runtime === 'lambda' ? 'on AWS Lambda' : 'on the prod stage') : undefined;
  // Every problem at once: a deploy that is missing two things should say both.
  const problems = secretProblems(env, strictWhere);
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  const e = parsed.data;
  // With a secret ARN the keys are fetched (and checked by parseAdminApiKeys) on first admin request.
  const keys = e.ADMIN_API_KEY_SECRET_ARN ? [] : parseAdminApiKeys(e.ADMIN_API_KEY ?? '', strictWhere, 'ADMIN_API_KEY');
  return {
    stage: e.STAGE,
    runtime,
    requireRealSecrets,
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

/** What is wrong with the secrets in `env` where real ones are required (`strictWhere`). */
function secretProblems(env: NodeJS.ProcessEnv, strictWhere: string | undefined): string[] {
  const problems: string[] = [];
  const key = env.ADMIN_API_KEY?.trim() ?? '';
  const keySecret = env.ADMIN_API_KEY_SECRET_ARN?.trim() ?? '';
  if (keySecret !== '' && key !== '') {
    problems.push('ADMIN_API_KEY: set either ADMIN_API_KEY or ADMIN_API_KEY_SECRET_ARN, not both');
  } else if (keySecret === '') {
    const problem = adminKeyProblem(key, strictWhere);
    if (problem) problems.push(`ADMIN_API_KEY: ${problem}`);
  }
  if (strictWhere !== undefined) {
    // A password in an environment variable is readable by anyone who may read the function's
    // configuration (and sits in the deployment template); it comes from Secrets Manager at run time.
    for (const name of ['DATABASE_URL', 'DATABASE_READ_URL'] as const) {
      if (/^mysql:\/\/[^/@]*:[^/@]*@/.test(env[name] ?? '')) {
        problems.push(`${name}: no password ${strictWhere}; set DB_SECRET_ARN`);
      }
    }
  }
  return problems;
}

const splitKeys = (raw: string): string[] =>
  raw
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);

function adminKeyProblem(raw: string, strictWhere: string | undefined): string | undefined {
  if (strictWhere === undefined) return undefined;
  const keys = splitKeys(raw);
  if (keys.length === 0) return `required ${strictWhere}`;
  if (keys.some((k) => k === DEV_ADMIN_API_KEY || k.length < 24)) {
    return `${strictWhere} every key must be at least 24 characters and not the development default`;
  }
  return undefined;
}

/**
 * The admin keys in `raw` (comma-separated). Without any key the development default applies
 * locally. Where real secrets are required (`strictWhere` names where: on AWS Lambda, on the prod
 * stage) there is no default: real keys, at least 24 characters each, or a ConfigError.
 */
export function parseAdminApiKeys(raw: string, strictWhere: string | undefined, source: string): string[] {
  const problem = adminKeyProblem(raw, strictWhere);
  if (problem) throw new ConfigError(`Invalid configuration:\n  ${source}: ${problem}`);
  const keys = splitKeys(raw);
  return keys.length > 0 ? keys : [DEV_ADMIN_API_KEY];
}

let cached: Config | undefined;

/** The process-wide configuration, read and validated on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}

// On AWS Lambda a bad configuration (no real admin key, a password in a URL, …) stops the function
// at start-up (module initialisation), before it serves anything; locally it is read on first use.
if (runtimeOf(process.env) === 'lambda') config();

/** Tests only: forget the cached configuration so a changed environment is read again. */
export function resetConfigForTests(): void {
  cached = undefined;
}
