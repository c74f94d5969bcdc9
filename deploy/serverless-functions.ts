import type { FunctionDeclaration, RouteDeclaration } from '../lib/http/route';
import { FUNCTIONS } from '../lib/routes';

/**
 * The `functions:` section of serverless.yml, made from the route and function declarations
 * (serverless.yml reads it through deploy/functions.js). Memory and timeout come from each
 * declaration; reserved concurrency is per stage, so it stays a serverless.yml param named
 * `concurrency<FunctionName>` (unset: none).
 */
export interface ServerlessFunction {
  handler: string;
  memorySize: number;
  timeout: number;
  reservedConcurrency: string;
  events?: Array<{ httpApi: '*' | { method: string; path: string } } | { schedule: string }>;
}

function eventsOf(fn: RouteDeclaration | FunctionDeclaration): ServerlessFunction['events'] {
  if ('method' in fn) return [{ httpApi: { method: fn.method, path: fn.path } }];
  const trigger = fn.trigger;
  if ('catchAll' in trigger) return [{ httpApi: '*' }];
  if ('schedule' in trigger) return [{ schedule: trigger.schedule }];
  return undefined;
}

export function serverlessFunctions(): Record<string, ServerlessFunction> {
  return Object.fromEntries(
    FUNCTIONS.map((fn) => {
      const name = fn.functionName;
      const events = eventsOf(fn);
      const settings: ServerlessFunction = {
        handler: `${fn.lambda.handler}.handler`,
        memorySize: fn.lambda.memorySize,
        timeout: fn.lambda.timeout,
        reservedConcurrency: `\${param:concurrency${name[0]?.toUpperCase()}${name.slice(1)}, null}`,
        ...(events ? { events } : {}),
      };
      return [name, settings];
    }),
  );
}
