import { config } from '../../lib/config';
import { migrateToLatest } from '../../lib/db/migrate';

/**
 * Applies pending migrations to the writer. Not an HTTP route: invoked once after each deploy
 * (`osls invoke --stage prod --function migrate`, see DEPLOY.md). Kysely's migrator takes a
 * GET_LOCK, so two overlapping invocations apply each migration once; a failure throws, so the
 * invocation reports an error and the deploy step fails loudly.
 */
export const handler = async (): Promise<{ applied: string[] }> => {
  const applied = await migrateToLatest(config().databaseUrl);
  return { applied };
};
