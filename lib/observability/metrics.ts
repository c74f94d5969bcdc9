import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { config } from '../config';
import { refreshEnvSnapshot } from './env-snapshot';

/** Metric names, one namespace (config().metricsNamespace), default dimension `service`. */
export const METRIC = {
  ordersPlaced: 'OrdersPlaced',
  ordersRejected: 'OrdersRejected',
  stockConflicts: 'StockConflicts',
  dbRetries: 'DbRetries',
  http5xx: 'Http5xx',
} as const;

/** What the observability middleware knows about a finished request. */
export interface RequestOutcome {
  requestId: string;
  /** The route declares order metrics (placing an order). */
  orderMetrics: boolean;
  status: number;
  /** The problem `code` of a failure. */
  code: string | undefined;
  /** An Idempotency-Key replay: the order was placed by an earlier request. */
  replayed: boolean;
  dbRetries: number;
}

let instance: Metrics | undefined;

function metrics(): Metrics {
  if (!instance) {
    const c = config();
    refreshEnvSnapshot(); // it reads its settings from the environment now: so does the copy
    instance = new Metrics({ namespace: c.metricsNamespace, serviceName: c.serviceName });
  }
  return instance;
}

const off = (_o: RequestOutcome) => undefined;

/**
 * The publisher of one request's figures, made (and the configuration read) when called: the
 * observability middleware calls it first and publishes inside withEnvSnapshot (env-snapshot.ts),
 * where nothing should read its settings from the environment. It emits the request's figures as
 * CloudWatch EMF lines on stdout, flushed before the invocation returns. Http5xx is emitted on every request (0 or 1) so its Average is the 5xx rate and an alarm
 * never sees missing data; the others only when they happen. OrdersRejected goes out as its own
 * line with two dimension sets ({service} and {service, code}): one alarm on the total, a breakdown
 * by code, without putting `code` on the other metrics.
 */
export function requestMetrics(): (o: RequestOutcome) => void {
  if (!config().metricsEnabled) return off;
  const m = metrics();
  return (o) => publish(m, o);
}

function publish(m: Metrics, o: RequestOutcome): void {
  m.addMetadata('request_id', o.requestId);
  m.addMetric(METRIC.http5xx, MetricUnit.Count, o.status >= 500 ? 1 : 0);
  if (o.orderMetrics && o.status === 201 && !o.replayed) {
    m.addMetric(METRIC.ordersPlaced, MetricUnit.Count, 1);
  }
  if (o.code === 'insufficient_stock') m.addMetric(METRIC.stockConflicts, MetricUnit.Count, 1);
  if (o.dbRetries > 0) m.addMetric(METRIC.dbRetries, MetricUnit.Count, o.dbRetries);
  m.publishStoredMetrics();

  if (o.orderMetrics && o.status >= 400) {
    const single = m.singleMetric();
    single.addMetadata('request_id', o.requestId);
    single.addDimensions({}); // the {service} set: all rejections
    single.addDimensions({ code: o.code ?? 'unknown' });
    single.addMetric(METRIC.ordersRejected, MetricUnit.Count, 1);
  }
}

/** Tests only: build the metrics emitter again from the (changed) configuration. */
export function resetMetricsForTests(): void {
  instance = undefined;
}
