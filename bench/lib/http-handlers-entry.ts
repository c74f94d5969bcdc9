/**
 * What the benchmark bundles for the HTTP rows' in-process reference (bench/scenarios/http.ts):
 * the two deployed functions it compares with serverless-offline, and the way to point the bundle's
 * pool at a database. serverless-offline serves esbuild bundles too: like for like.
 */
export { handler as createOrder } from '../../functions/orders/create-order';
export { handler as listProducts } from '../../functions/products/list-products';
export { pointProcessAt } from '../../scripts/lib/process-db';
