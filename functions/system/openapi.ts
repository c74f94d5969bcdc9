import { endpoint } from '../../lib/http/handler';
import { cacheableJson } from '../../lib/http/response';
import { openApiDocument } from '../../lib/openapi/document';
import { openApiRoute } from '../../lib/system/routes';

/** The OpenAPI 3.1 document generated from the request schemas. */
export const handler = endpoint(openApiRoute, async ({ headers }) =>
  cacheableJson(openApiDocument(), headers['if-none-match'], 'public, max-age=300'),
);
