/** A Metrics (lib/metrics.ts) that keeps every data point, for tests that assert on them. */
import type { MetricDimensions, MetricName, Metrics } from '../../lib/metrics.ts';

export interface MetricPoint {
  readonly name: MetricName;
  readonly unit: 'Count' | 'Bytes' | 'Milliseconds';
  readonly value: number;
  readonly dims: MetricDimensions;
}

export interface RecordingMetrics extends Metrics {
  readonly points: MetricPoint[];
  /** The points of one metric. */
  of(name: MetricName): MetricPoint[];
  /** The sum of one metric's values. */
  sum(name: MetricName): number;
}

export function recordingMetrics(): RecordingMetrics {
  const points: MetricPoint[] = [];
  const push = (name: MetricName, unit: MetricPoint['unit'], value: number, dims: MetricDimensions = {}) => void points.push({ name, unit, value, dims });
  const of = (name: MetricName) => points.filter((p) => p.name === name);
  return {
    points,
    count: (name, n = 1, dims) => push(name, 'Count', n, dims),
    bytes: (name, n, dims) => push(name, 'Bytes', n, dims),
    ms: (name, n, dims) => push(name, 'Milliseconds', n, dims),
    of,
    sum: (name) => of(name).reduce((n, p) => n + p.value, 0),
  };
}
