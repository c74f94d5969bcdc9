/**
 * The real Lambda handlers, loaded in this process and invoked with API Gateway v2 events built by
 * tests/support/events.ts (the one event builder), exactly as the handler tests do.
 */
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { resetConfigForTests } from '../../lib/config';
import { closeDb } from '../../lib/db/client';
import { apiEvent, type EventOptions, lambdaContext } from '../../tests/support/events';

export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface HandlerReply {
  status: number;
  headers: Record<string, string>;
  text: string | undefined;
}

/** Loads `functions/<path>.ts` and returns its exported `handler`. */
export function loadHandler(repoRoot: string, relPath: string): Handler {
  // require, not a static import: the bench loads handlers by path, as Lambda does.
  const mod = require(join(repoRoot, relPath)) as { handler?: Handler };
  if (typeof mod.handler !== 'function') throw new Error(`${relPath} exports no handler`);
  return mod.handler;
}

/**
 * Points the app's process-wide pool at `databaseUrl` with `poolSize` connections (through the
 * environment that lib/config.ts reads, then a config reset), closing the previous pool.
 */
export async function useDatabase(databaseUrl: string, poolSize: number): Promise<void> {
  await closeDb();
  process.env.DATABASE_URL = databaseUrl;
  process.env.DB_POOL_SIZE = String(poolSize);
  delete process.env.DATABASE_READ_URL;
  resetConfigForTests();
}

export async function call(handler: Handler, o: EventOptions, functionName = 'bench'): Promise<HandlerReply> {
  const result = await handler(apiEvent(o), lambdaContext(functionName));
  if (typeof result === 'string') throw new Error('handler returned a bare string');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  return { status: result.statusCode ?? 200, headers, text: result.body };
}

/** An Error naming the status and problem code, for the load runner's failure tally. */
export function unexpected(reply: HandlerReply, expected: number): Error {
  let code = '';
  try {
    code = (JSON.parse(reply.text ?? '{}') as { code?: string }).code ?? '';
  } catch {
    code = (reply.text ?? '').slice(0, 80);
  }
  return new Error(`HTTP ${reply.status} (expected ${expected}) ${code}`.trim());
}
