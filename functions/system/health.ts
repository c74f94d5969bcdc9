import { databaseIsUp } from '../../lib/health';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';

export const handler = endpoint({}, async () => {
  const up = await databaseIsUp();
  return json(up ? 200 : 503, { status: up ? 'ok' : 'degraded', database: up ? 'ok' : 'unreachable' }, {
    'Cache-Control': 'no-store',
  });
});
