import { MethodNotAllowedError, RouteNotFoundError } from '../../lib/errors';
import { endpoint } from '../../lib/http/handler';
import { allowedMethods } from '../../lib/routes';
import { notFoundFunction } from '../../lib/system/routes';

/** The catch-all: 405 with `Allow` for a known path, else 404 route_not_found. */
export const handler = endpoint(notFoundFunction, async ({ event }) => {
  const method = event.requestContext.http.method;
  const path = event.rawPath;
  const allowed = allowedMethods(path);
  if (allowed.length > 0) throw new MethodNotAllowedError(method, path, allowed);
  throw new RouteNotFoundError(method, path);
});
