import { db } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { noContent } from '../../lib/http/response';
import { productIdParams } from '../../lib/http/schemas';
import { archiveProduct } from '../../lib/products/service';

export const handler = endpoint({ admin: true, params: productIdParams }, async ({ params }) => {
  await archiveProduct(db(), params.id);
  return noContent();
});
