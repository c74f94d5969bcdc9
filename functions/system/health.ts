import { dbFor } from '../../lib/db/client';
import { databaseIsUp } from '../../lib/health';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { healthRoute } from '../../lib/system/routes';

export const handler = endpoint(healthRoute, async ({ scope }) => {
  const up = await databaseIsUp(dbFor(scope));
  const body = { status: up ? 'ok' : 'degraded', database: up ? 'ok' : 'unreachable' };
  return json(up ? 200 : 503, body, { 'Cache-Control': 'no-store' });
});
