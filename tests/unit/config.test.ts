import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_ADMIN_API_KEY, loadConfig, runtimeOf } from '../../lib/config';

describe('configuration', () => {
  it('has working development defaults', () => {
    const c = loadConfig({});
    expect(c.stage).toBe('dev');
    expect(c.adminApiKeys).toEqual([DEV_ADMIN_API_KEY]);
    expect(c.dbPoolSize).toBe(2);
    expect(c.databaseUrl).toMatch(/^mysql:\/\//);
  });

  it('names the bad variable', () => {
    expect(() => loadConfig({ DB_POOL_SIZE: 'lots' })).toThrow(/DB_POOL_SIZE/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x/y' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(ConfigError);
  });

  it('refuses the prod stage without a real admin key', () => {
    expect(() => loadConfig({ STAGE: 'prod' })).toThrow(/ADMIN_API_KEY/);
    expect(() => loadConfig({ STAGE: 'prod', ADMIN_API_KEY: DEV_ADMIN_API_KEY })).toThrow(/ADMIN_API_KEY/);
    expect(() => loadConfig({ STAGE: 'prod', ADMIN_API_KEY: 'short' })).toThrow(/ADMIN_API_KEY/);
    expect(loadConfig({ STAGE: 'prod', ADMIN_API_KEY: 'k'.repeat(32) }).adminApiKeys).toEqual(['k'.repeat(32)]);
  });

  it('accepts several comma-separated admin keys (for rotation)', () => {
    expect(loadConfig({ ADMIN_API_KEY: 'one-key, two-key' }).adminApiKeys).toEqual(['one-key', 'two-key']);
  });

  it('tells AWS Lambda from local runs by the Lambda variables, whatever the stage is called', () => {
    const lambda = {
      AWS_LAMBDA_FUNCTION_NAME: 'shop-api-staging-getProduct',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    };
    expect(runtimeOf({})).toBe('local'); // tests, scripts
    expect(runtimeOf(lambda)).toBe('lambda');
    expect(runtimeOf({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe('lambda');
    expect(runtimeOf({ ...lambda, IS_OFFLINE: 'true' })).toBe('local'); // serverless-offline
    expect(runtimeOf({ ...lambda, IS_LOCAL: 'true' })).toBe('local'); // osls invoke local
  });

  it('on AWS Lambda, any stage: no development key, no short key, no password in a URL; every problem named', () => {
    for (const STAGE of ['dev', 'staging', 'Prod']) {
      const lambda = { STAGE, AWS_LAMBDA_FUNCTION_NAME: `shop-api-${STAGE}-createProduct` };
      expect(() => loadConfig(lambda)).toThrow(/ADMIN_API_KEY: required on AWS Lambda/);
      expect(() => loadConfig({ ...lambda, ADMIN_API_KEY: DEV_ADMIN_API_KEY })).toThrow(/ADMIN_API_KEY/);
      expect(() => loadConfig({ ...lambda, ADMIN_API_KEY: 'short' })).toThrow(/ADMIN_API_KEY/);
      expect(loadConfig({ ...lambda, ADMIN_API_KEY: 'k'.repeat(32) }).requireRealSecrets).toBe(true);
      expect(() => loadConfig({ ...lambda, ADMIN_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:x' })).not.toThrow();
      // Locally (serverless-offline) the same stage keeps the development default.
      expect(loadConfig({ ...lambda, IS_OFFLINE: 'true' }).adminApiKeys).toEqual([DEV_ADMIN_API_KEY]);
    }
    const both = () =>
      loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f', DATABASE_URL: 'mysql://app:pw@db:3306/shop', DB_POOL_SIZE: 'x' });
    expect(both).toThrow(/ADMIN_API_KEY: required[\s\S]*DATABASE_URL: no password on AWS Lambda[\s\S]*DB_POOL_SIZE/);
  });
});
