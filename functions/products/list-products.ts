import { readDbFor } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { cacheableJson, publicCacheControl } from '../../lib/http/response';
import { listProductsRoute } from '../../lib/products/routes';
import { listProducts } from '../../lib/products/service';

export const handler = endpoint(listProductsRoute, async ({ query, headers, scope }) => {
  const page = await listProducts(readDbFor(scope), query);
  return cacheableJson(page, headers['if-none-match'], publicCacheControl());
});
