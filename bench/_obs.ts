import { logger } from '../lib/observability/logger';
import { publishRequestMetrics } from '../lib/observability/metrics';
import { discardStdout } from './lib/stdout';
const out = discardStdout();
const line = {
  request_id: 'abc',
  route: 'POST /orders',
  path: '/orders',
  status: 201,
  duration_ms: 12.3,
  cold_start: false,
  function_name: 'createOrder',
};
function bench(name: string, fn: () => void) {
  for (let i = 0; i < 2000; i++) fn();
  const c0 = process.cpuUsage();
  const n = 20000;
  for (let i = 0; i < n; i++) fn();
  const c = process.cpuUsage(c0);
  console.error(name, ((c.user + c.system) / n).toFixed(1), 'µs');
}
bench('logger.info', () => logger().info('request', line));
bench('metrics', () =>
  publishRequestMetrics({
    requestId: 'abc',
    route: 'POST /orders',
    status: 201,
    code: undefined,
    replayed: false,
    dbRetries: 0,
  }),
);
bench('JSON.stringify line', () => {
  JSON.stringify(line);
});
bench('process.env read', () => {
  void process.env.POWERTOOLS_DEV;
});
out.restore();
