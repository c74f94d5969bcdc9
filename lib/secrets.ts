import { config, parseAdminApiKeys } from './config';
import type { DbCredentials } from './db/pool';

/**
 * Secrets from AWS Secrets Manager, fetched at run time and cached in memory (Powertools Parameters)
 * for SECRETS_CACHE_TTL_S, so a rotated secret is picked up without a redeploy and a warm Lambda
 * does not call Secrets Manager per request. Nothing here runs unless an ARN is configured: the
 * AWS SDK is imported on first use only, so dev, tests and module initialisation never load it.
 */

export class SecretError extends Error {
  override name = 'SecretError';
}

async function fetchSecretString(arn: string, forceFetch: boolean): Promise<string> {
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  const value = await getSecret(arn, { maxAge: config().secretsCacheTtlS, forceFetch });
  if (typeof value !== 'string' || value === '') {
    throw new SecretError(`Secret ${arn} has no SecretString`);
  }
  return value;
}

/**
 * The database user and password from the RDS-format secret named by DB_SECRET_ARN
 * (`{"username": …, "password": …}`), or undefined when none is configured (credentials, if any,
 * are then in DATABASE_URL). `forceFetch` bypasses the cache, e.g. after the password was rotated.
 */
export async function databaseCredentials(forceFetch = false): Promise<DbCredentials | undefined> {
  const arn = config().dbSecretArn;
  if (!arn) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fetchSecretString(arn, forceFetch));
  } catch (err) {
    if (err instanceof SyntaxError) throw new SecretError(`Secret ${arn} is not JSON`);
    throw err;
  }
  const { username, password } = (parsed ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
    throw new SecretError(`Secret ${arn} must hold a non-empty "username" and "password"`);
  }
  return { user: username, password };
}

/**
 * The admin keys: from ADMIN_API_KEY_SECRET_ARN when set (the SecretString, comma-separated, held
 * to the same rules as ADMIN_API_KEY), else the keys configured in the environment.
 */
export async function adminApiKeys(): Promise<readonly string[]> {
  const cfg = config();
  if (!cfg.adminApiKeySecretArn) return cfg.adminApiKeys;
  const raw = await fetchSecretString(cfg.adminApiKeySecretArn, false);
  return parseAdminApiKeys(
    raw,
    cfg.requireRealSecrets ? 'from Secrets Manager' : undefined,
    'ADMIN_API_KEY_SECRET_ARN',
  );
}
