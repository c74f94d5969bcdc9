/**
 * npm run invoke -- <function> <event.json>: runs one Lambda handler in this process, as the Lambda
 * runtime would, with the event read from a file, and prints what it returns.
 *
 * The event is a whole API Gateway HTTP API (v2) event or an EventBridge event (the files in events/
 * work with `osls invoke local --path` too), or a short form that scripts/lib/lambda.ts builds into
 * a v2 event: `{ "method": "GET", "path": "/products/1", "route": "/products/{id}", "pathParameters": … }`.
 * Database: DATABASE_URL, else the `shop` database of the server `npm run dev` uses (nothing is
 * started). Log lines and EMF metrics go to stdout as in Lambda (LOG_LEVEL=silent and
 * METRICS_ENABLED=false hide them).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { closeDb } from '../lib/db/client';
import { FUNCTIONS } from '../lib/routes';
import { apiEvent, type EventOptions, lambdaContext, loadHandler } from './lib/lambda';
import { repoRoot } from './lib/mysql-server';
import { existingDevDatabaseUrl } from './lib/prepare-database';
import { pointProcessAt } from './lib/process-db';

function usage(message: string): never {
  const names = FUNCTIONS.map((f) => f.functionName).join(', ');
  console.error(`${message}\nusage: npm run invoke -- <function> <event.json>\nfunctions: ${names}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const [name, file] = process.argv.slice(2);
  if (!name || !file) usage('a function name and an event file are needed');
  const declaration = FUNCTIONS.find((f) => f.functionName === name);
  if (!declaration) usage(`no function named ${name}`);
  const raw = JSON.parse(readFileSync(resolve(file), 'utf8')) as Record<string, unknown>;
  const isWholeEvent = 'version' in raw || 'detail-type' in raw || 'requestContext' in raw;
  const event = isWholeEvent ? raw : apiEvent(raw as unknown as EventOptions);

  await pointProcessAt(await existingDevDatabaseUrl());
  const handler = loadHandler(repoRoot(), `${declaration.lambda.handler}.ts`) as unknown as (
    event: unknown,
    context: unknown,
  ) => Promise<unknown>;
  try {
    const result = await handler(event, lambdaContext(name));
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await closeDb();
  }
}

main().catch((err: unknown) => {
  console.error(`invoke failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
