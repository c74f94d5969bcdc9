import { dbFor } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { etagOf } from '../../lib/http/etag';
import { json } from '../../lib/http/response';
import { productVersion } from '../../lib/products/present';
import { createProductRoute } from '../../lib/products/routes';
import { createProduct } from '../../lib/products/service';

export const handler = endpoint(createProductRoute, async ({ body, scope }) => {
  const product = await createProduct(dbFor(scope), body);
  return json(201, product, { Location: `/products/${product.id}`, ETag: etagOf(productVersion(product)) });
});
