/**
 * What the benchmark bundles of the order handler (bench/lib/bundle.ts): the deployed function, and
 * the way to point that bundle's own pool at a database (loopback or the latency proxy).
 */
export { handler } from '../../functions/orders/create-order';
export { pointProcessAt } from '../../scripts/lib/process-db';
