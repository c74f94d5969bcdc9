import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Vitest blanks CSS by default; the docs page serves swagger-ui.css as text (`?raw` import).
    css: { include: [/swagger-ui\.css/] },
    globalSetup: ['tests/global-setup.ts'],
    setupFiles: ['tests/setup-env.ts'],
    // Real database, real processes: generous limits, never timing assertions.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One database for the run; files run one after another so a test that asserts "nothing
    // changed" (table counts) is not disturbed by another file's writes.
    fileParallelism: false,
  },
});
