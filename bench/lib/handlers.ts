/**
 * The real Lambda handlers, loaded in this process and invoked with API Gateway v2 events built by
 * scripts/lib/lambda.ts (the one event builder), exactly as the handler tests do.
 */
import type { Reply } from '../../scripts/lib/lambda';
import { pointProcessAt } from '../../scripts/lib/process-db';

/** Points the app's process-wide pool at `databaseUrl` with `poolSize` connections, writer only. */
export async function useDatabase(databaseUrl: string, poolSize: number): Promise<void> {
  await pointProcessAt(databaseUrl, { DB_POOL_SIZE: String(poolSize), DATABASE_READ_URL: undefined });
}

/** An Error naming the status and problem code, for the load runner's failure tally. */
export function unexpected(reply: Reply, expected: number): Error {
  let code = '';
  try {
    code = (JSON.parse(reply.text ?? '{}') as { code?: string }).code ?? '';
  } catch {
    code = (reply.text ?? '').slice(0, 80);
  }
  return new Error(`HTTP ${reply.status} (expected ${expected}) ${code}`.trim());
}
