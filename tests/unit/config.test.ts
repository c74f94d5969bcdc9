import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_ADMIN_API_KEY, loadConfig } from '../../lib/config';

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
});
