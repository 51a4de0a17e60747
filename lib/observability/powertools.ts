/**
 * The one module that imports Powertools for AWS Lambda (TypeScript): the Lambda entry points'
 * `Metrics` (CloudWatch EMF) and `Logger` (JSON with the invocation's context), and the wrapper
 * that flushes the metrics once per invocation. Everything else records through the interfaces
 * of lib/metrics.ts and lib/deps.ts, so tests and the dev server never load Powertools.
 *
 * EMF: a data point with extra dimensions (Errors by `code`) cannot share a blob with those
 * without (a blob has one dimension set for all its metrics), so `flush()` writes one blob for
 * the plain points and one per distinct set of extra dimensions.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { LogFields, Logger } from '../deps.ts';
import { METRICS_NAMESPACE, type MetricDimensions, type Metrics } from '../metrics.ts';

/** The `service` dimension and the logger's service name. */
export type ServiceName = 'api' | 'maintenance';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

interface Point {
  readonly name: string;
  readonly unit: Unit;
  readonly value: number;
}

export interface FlushableMetrics extends Metrics {
  /** Writes every point recorded since the last flush as EMF on stdout, then forgets them. */
  flush(): void;
  /** The ColdStart metric, once per process (Powertools' own). */
  captureColdStart(): void;
}

export function powertoolsMetrics(service: ServiceName): FlushableMetrics {
  const emf = new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName: service });
  const plain: Point[] = [];
  const byDims = new Map<string, { dims: MetricDimensions; points: Point[] }>();
  const record = (name: string, unit: Unit, value: number, dims?: MetricDimensions) => {
    const point = { name, unit, value };
    if (dims === undefined || Object.keys(dims).length === 0) return void plain.push(point);
    const key = JSON.stringify(Object.entries(dims).sort(([a], [b]) => (a < b ? -1 : 1)));
    const group = byDims.get(key) ?? { dims, points: [] };
    group.points.push(point);
    byDims.set(key, group);
  };
  const publish = (points: readonly Point[], dims: MetricDimensions = {}) => {
    if (points.length === 0) return;
    for (const [k, v] of Object.entries(dims)) emf.addDimension(k, v);
    for (const p of points) emf.addMetric(p.name, p.unit, p.value);
    emf.publishStoredMetrics();
  };
  return {
    count: (name, n = 1, dims) => record(name, MetricUnit.Count, n, dims),
    bytes: (name, n, dims) => record(name, MetricUnit.Bytes, n, dims),
    ms: (name, n, dims) => record(name, MetricUnit.Milliseconds, n, dims),
    flush() {
      const groups = [...byDims.values()];
      const points = plain.splice(0);
      byDims.clear();
      publish(points);
      for (const g of groups) publish(g.points, g.dims);
    },
    captureColdStart: () => void emf.captureColdStartMetric(),
  };
}

export interface ContextualLogger extends Logger {
  /** Adds the invocation's context (request id, cold start, function name) to the lines that follow. */
  addContext(context: unknown): void;
}

/** JSON lines on stdout (CloudWatch Logs) with `service`, timestamp, and the invocation context. */
export function powertoolsLogger(service: ServiceName): ContextualLogger {
  const logger = new PowertoolsLogger({ serviceName: service });
  const extra = (fields?: LogFields) => (fields === undefined ? [] : [{ ...fields }]);
  return {
    error: (msg, fields) => logger.error(msg, ...extra(fields)),
    info: (msg, fields) => logger.info(msg, ...extra(fields)),
    addContext: (context) => logger.addContext(context as Parameters<PowertoolsLogger['addContext']>[0]),
  };
}

/**
 * Wraps a Lambda handler: the logger learns each invocation's context, the metrics are flushed
 * once when it ends (returned or thrown), a cold start is counted once.
 */
export function observed<E, C, R>(
  handler: (event: E, context: C) => Promise<R>,
  o: { readonly metrics: FlushableMetrics; readonly logger: ContextualLogger },
): (event: E, context: C) => Promise<R> {
  let cold = true;
  return async (event, context) => {
    o.logger.addContext(context);
    if (cold) {
      cold = false;
      o.metrics.captureColdStart();
    }
    try {
      return await handler(event, context);
    } finally {
      o.metrics.flush();
    }
  };
}

/** A Lambda function's metrics and logger (for its deps) and the wrapper that flushes them. */
export function lambdaObservability(service: ServiceName) {
  const metrics = powertoolsMetrics(service);
  const logger = powertoolsLogger(service);
  return {
    metrics,
    logger,
    wrap: <E, C, R>(handler: (event: E, context: C) => Promise<R>) => observed(handler, { metrics, logger }),
  };
}
