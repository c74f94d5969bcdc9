import { RouteNotFoundError } from '../../lib/errors';
import { endpoint } from '../../lib/http/handler';
import { docsAssetResponse } from '../../lib/openapi/docs-assets';
import { docsAssetParams } from '../../lib/openapi/docs-page';

/** GET /docs/{file}: a script or stylesheet of the docs page, from the installed swagger-ui-dist. */
export const handler = endpoint({ params: docsAssetParams }, async ({ params, headers, event }) => {
  const response = docsAssetResponse(params.file, headers);
  if (!response) throw new RouteNotFoundError('GET', event.rawPath);
  return response;
});
