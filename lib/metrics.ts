/**
 * The app's metrics, behind a small interface injected through `SluiceDeps.metrics` (like the
 * clock and the logger): the rules (lib/log, lib/maintenance) and lib/api record numbers here and
 * never import a metrics library. Lambda backs it with Powertools EMF
 * (lib/observability/powertools.ts, flushed once per invocation); the dev server and tests
 * use `noopMetrics` or a recording one.
 *
 * Namespace `Sluice`, default dimension `service` (`api` | `maintenance`). The names below are a
 * contract with the dashboard and alarms in infra/: renaming one breaks them.
 */

export const METRICS_NAMESPACE = 'Sluice';

/** Every metric the app emits, by unit (docs/ARCHITECTURE.md, "Observability"). */
export const METRIC = {
  count: [
    'ProduceRecords',
    'FetchRecords',
    /** One per error answer (a multi-partition fetch: one per partition error), dimension `code`. */
    'Errors',
    /** A publish lost a race (a moved producer/group state, a slot taken by a hole filler). */
    'CommitConflicts',
    /** A reader filled an abandoned slot (a writer that reserved and never published). */
    'HolesFilled',
    /** A segment PUT or GET was sent a second time because the first was slow (lib/storage/hedge.ts). */
    'HedgedRequests',
    'MaintenanceTicks',
    'MaintenanceFailures',
    'ObjectsDeleted',
    'EntriesMerged',
    'TopicItemsDeleted',
  ],
  bytes: ['ProduceBytes', 'FetchBytes', 'MergedBytes', 'BytesFreed'],
  ms: ['ProduceLatency', 'FetchLatency', 'MaintenanceLagMs'],
} as const;

export type CountMetric = (typeof METRIC.count)[number];
export type BytesMetric = (typeof METRIC.bytes)[number];
export type MsMetric = (typeof METRIC.ms)[number];
export type MetricName = CountMetric | BytesMetric | MsMetric;

/** Extra dimensions of one data point (beside the default `service`). */
export type MetricDimensions = Readonly<Record<string, string>>;

export interface Metrics {
  count(name: CountMetric, n?: number, dims?: MetricDimensions): void;
  bytes(name: BytesMetric, n: number, dims?: MetricDimensions): void;
  ms(name: MsMetric, n: number, dims?: MetricDimensions): void;
}

/** The default: records nothing (tests, benches, the dev server). */
export const noopMetrics: Metrics = {
  count: () => {},
  bytes: () => {},
  ms: () => {},
};
