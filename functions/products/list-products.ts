import { endpoint } from '../../lib/http/handler';
import { cacheableJson, publicCacheControl } from '../../lib/http/response';
import { listProductsRoute } from '../../lib/products/routes';
import { listProducts } from '../../lib/products/service';

export const handler = endpoint(listProductsRoute, async ({ query, headers, readDb }) => {
  const page = await listProducts(readDb(), query);
  return cacheableJson(page, headers['if-none-match'], publicCacheControl());
});
