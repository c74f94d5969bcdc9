import { RouteNotFoundError } from '../../lib/errors';
import { endpoint } from '../../lib/http/handler';
import { docsAssetResponse } from '../../lib/system/docs-assets';
import { docsAssetRoute } from '../../lib/system/routes';

/** A script or stylesheet of the docs page, from the installed swagger-ui-dist. */
export const handler = endpoint(docsAssetRoute, async ({ params, headers, event }) => {
  const response = docsAssetResponse(params.file, headers);
  if (!response) throw new RouteNotFoundError('GET', event.rawPath);
  return response;
});
