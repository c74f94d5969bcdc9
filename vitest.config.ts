import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    setupFiles: ['tests/setup-env.ts'],
    // Real database, real processes: generous limits, never timing assertions.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
