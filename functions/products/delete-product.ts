import { dbFor } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { noContent } from '../../lib/http/response';
import { deleteProductRoute } from '../../lib/products/routes';
import { archiveProduct } from '../../lib/products/service';

export const handler = endpoint(deleteProductRoute, async ({ params, scope }) => {
  await archiveProduct(dbFor(scope), params.id);
  return noContent();
});
