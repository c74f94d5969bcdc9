// Runs in every test worker before the test files: point lib/config.ts at this run's database.
import { inject } from 'vitest';

process.env.DATABASE_URL = inject('databaseUrl');
process.env.LOG_LEVEL ??= 'silent';
process.env.METRICS_ENABLED ??= 'false';
