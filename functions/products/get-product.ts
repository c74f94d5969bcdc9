import { readDb } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { cacheableJson } from '../../lib/http/response';
import { productIdParams } from '../../lib/http/schemas';
import { publicCacheControl } from '../../lib/products/present';
import { getProduct } from '../../lib/products/service';

export const handler = endpoint({ params: productIdParams }, async ({ params, headers }) => {
  const product = await getProduct(readDb(), params.id);
  return cacheableJson(product, headers['if-none-match'], publicCacheControl());
});
