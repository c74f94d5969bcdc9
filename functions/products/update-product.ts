import { dbFor } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { etagOf, ifMatchVersions } from '../../lib/http/etag';
import { json } from '../../lib/http/response';
import { productVersion } from '../../lib/products/present';
import { updateProductRoute } from '../../lib/products/routes';
import { updateProduct } from '../../lib/products/service';

export const handler = endpoint(updateProductRoute, async ({ body, params, headers, scope }) => {
  const product = await updateProduct(dbFor(scope), params.id, body, ifMatchVersions(headers['if-match']));
  return json(200, product, { ETag: etagOf(productVersion(product)) });
});
