import { readDbFor } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { cacheableJson, publicCacheControl } from '../../lib/http/response';
import { getProductRoute } from '../../lib/products/routes';
import { getProduct } from '../../lib/products/service';

export const handler = endpoint(getProductRoute, async ({ params, headers, scope }) => {
  const product = await getProduct(readDbFor(scope), params.id);
  return cacheableJson(product, headers['if-none-match'], publicCacheControl());
});
