import { db } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { etagOf, ifMatchVersions } from '../../lib/http/etag';
import { json } from '../../lib/http/response';
import { productIdParams } from '../../lib/http/schemas';
import { productVersion } from '../../lib/products/present';
import { updateProductBody } from '../../lib/products/schema';
import { updateProduct } from '../../lib/products/service';

export const handler = endpoint(
  { admin: true, body: updateProductBody, params: productIdParams },
  async ({ body, params, headers }) => {
    const product = await updateProduct(db(), params.id, body, ifMatchVersions(headers['if-match']));
    return json(200, product, { ETag: etagOf(productVersion(product)) });
  },
);
