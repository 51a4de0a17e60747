/**
 * Alarms and a dashboard for one Sluice deployment.
 *
 * Metrics come from two places: AWS (API Gateway `5xx`/`Count`, Lambda `Throttles`/`Errors`)
 * and the functions' own EMF lines in namespace `Sluice` (SLUICE_METRICS), each with the
 * dimension `service` = `api` or `maintenance` (`Errors` also carries `code`).
 *
 * Alarms (names in ALARMS), each with the optional action on ALARM and OK:
 *   api-5xx-rate          5xx / requests above 5 % in 3 of 3 five-minute periods
 *   api-throttles         any throttled invocation of the API function in 5 minutes
 *   fetch-throttles       any throttled invocation of the fetch function (the read routes)
 *   maintenance-throttles any throttled invocation of the maintenance function
 *   produce-latency-p99   p99 ProduceLatency above 1 s in 3 of 3 five-minute periods
 *   maintenance-errors    a failed maintenance run in each of 3 consecutive 5-minute periods
 *                         (one failure is made up by the next run; a streak is not)
 *   maintenance-stale     no MaintenanceTicks for 15 minutes; missing data counts as breaching,
 *                         so a schedule that stopped (or a function that never starts) alarms
 *
 * The API and fetch functions run the same app, so their EMF metrics share `service` = `api`
 * (latencies and byte counts are per route, not per function); the dashboard shows each
 * function's own Lambda errors, duration and throttles beside them. api-5xx-rate covers
 * both, since it counts the answers of every route at API Gateway.
 */
import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** The custom metrics the functions emit (namespace `Sluice`). */
export const SLUICE_NAMESPACE = 'Sluice';
export const SLUICE_METRICS = {
  produceLatency: 'ProduceLatency',
  fetchLatency: 'FetchLatency',
  produceRecords: 'ProduceRecords',
  produceBytes: 'ProduceBytes',
  fetchBytes: 'FetchBytes',
  errors: 'Errors',
  commitConflicts: 'CommitConflicts',
  holesFilled: 'HolesFilled',
  hedgedRequests: 'HedgedRequests',
  maintenanceTicks: 'MaintenanceTicks',
} as const;

/** Alarm name suffixes (the full name is `<dashboardName>-<suffix>`). */
export const ALARMS = {
  api5xxRate: 'api-5xx-rate',
  apiThrottles: 'api-throttles',
  fetchThrottles: 'fetch-throttles',
  /** The stream function (SSE behind the Function URL) refused an invocation: a stream could not open. */
  streamThrottles: 'stream-throttles',
  maintenanceThrottles: 'maintenance-throttles',
  produceLatencyP99: 'produce-latency-p99',
  maintenanceErrors: 'maintenance-errors',
  maintenanceStale: 'maintenance-stale',
} as const;

const PERIOD = Duration.minutes(5);

export interface SluiceMonitoringProps {
  readonly api: HttpApi;
  readonly apiFunction: lambda.IFunction;
  /** The function serving the read routes. */
  readonly fetchFunction: lambda.IFunction;
  /** The response-streaming function behind the Function URL (`live=sse`). */
  readonly streamFunction: lambda.IFunction;
  readonly maintenanceFunction: lambda.IFunction;
  readonly dashboardName: string;
  /** Added to every alarm on ALARM and OK. @default none */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /** 5xx share of requests that alarms, in percent. @default 5 */
  readonly max5xxPercent?: number;
  /** p99 produce latency that alarms. @default 1 second */
  readonly maxProduceLatencyP99?: Duration;
  /** How long without a maintenance tick alarms. @default 15 minutes */
  readonly maxMaintenanceSilence?: Duration;
}

function sluiceMetric(
  metricName: string,
  service: 'api' | 'maintenance',
  statistic: string,
  extra: Partial<cloudwatch.MetricProps> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: SLUICE_NAMESPACE,
    metricName,
    dimensionsMap: { service },
    statistic,
    period: PERIOD,
    ...extra,
  });
}

export class SluiceMonitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: Readonly<Record<keyof typeof ALARMS, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: SluiceMonitoringProps) {
    super(scope, id);
    const { api, apiFunction, fetchFunction, streamFunction, maintenanceFunction } = props;
    const name = (suffix: string) => `${props.dashboardName}-${suffix}`;

    const requests = api.metricCount({ period: PERIOD, statistic: 'Sum', label: 'requests' });
    const serverErrors = api.metricServerError({ period: PERIOD, statistic: 'Sum', label: '5xx' });
    const clientErrors = api.metricClientError({ period: PERIOD, statistic: 'Sum', label: '4xx' });
    const errorRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      period: PERIOD,
      label: '5xx % of requests',
    });
    const latency = (metric: string, stat: string) =>
      sluiceMetric(metric, 'api', stat, {
        unit: cloudwatch.Unit.MILLISECONDS,
        label: `${metric} ${stat}`,
      });
    const produceP99 = latency(SLUICE_METRICS.produceLatency, 'p99');
    // Alarm metrics carry no label: a label would turn the alarm into a metric-math query.
    const produceP99Alarm = sluiceMetric(SLUICE_METRICS.produceLatency, 'api', 'p99', {
      unit: cloudwatch.Unit.MILLISECONDS,
    });
    const ticks = sluiceMetric(SLUICE_METRICS.maintenanceTicks, 'maintenance', 'Sum', {
      period: props.maxMaintenanceSilence ?? Duration.minutes(15),
    });
    const maintenanceErrors = maintenanceFunction.metricErrors({ period: PERIOD, statistic: 'Sum' });

    const alarm = (
      suffix: string,
      description: string,
      options: Omit<cloudwatch.CreateAlarmOptions, 'alarmName' | 'alarmDescription'>,
      metric: cloudwatch.IMetric,
    ) => {
      const created = new cloudwatch.Alarm(this, suffix, {
        metric,
        alarmName: name(suffix),
        alarmDescription: description,
        ...options,
      });
      if (props.alarmAction) {
        created.addAlarmAction(props.alarmAction);
        created.addOkAction(props.alarmAction);
      }
      return created;
    };
    const throttles = (fn: lambda.IFunction, suffix: string, which: string) =>
      alarm(
        suffix,
        `The ${which} function was throttled (account concurrency or its reserved concurrency)`,
        {
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
      );

    this.alarms = {
      api5xxRate: alarm(
        ALARMS.api5xxRate,
        'More than the allowed share of API requests answered 5xx for 15 minutes',
        {
          threshold: props.max5xxPercent ?? 5,
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        errorRate,
      ),
      apiThrottles: throttles(apiFunction, ALARMS.apiThrottles, 'API'),
      fetchThrottles: throttles(fetchFunction, ALARMS.fetchThrottles, 'fetch'),
      // Each open stream holds one execution for its whole life: at the concurrency cap the
      // next stream is refused, which this alarm reports.
      streamThrottles: throttles(streamFunction, ALARMS.streamThrottles, 'stream'),
      maintenanceThrottles: throttles(maintenanceFunction, ALARMS.maintenanceThrottles, 'maintenance'),
      produceLatencyP99: alarm(
        ALARMS.produceLatencyP99,
        'p99 produce latency above the limit for 15 minutes',
        {
          threshold: (props.maxProduceLatencyP99 ?? Duration.seconds(1)).toMilliseconds(),
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        produceP99Alarm,
      ),
      maintenanceErrors: alarm(
        ALARMS.maintenanceErrors,
        'Maintenance runs failed in 3 consecutive 5-minute periods (see its log group)',
        {
          threshold: 1,
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        maintenanceErrors,
      ),
      maintenanceStale: alarm(
        ALARMS.maintenanceStale,
        'No maintenance tick was recorded: the schedule or the function is not running',
        {
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
        ticks,
      ),
    };

    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6 });
    const apiSum = (metric: string, label: string) =>
      sluiceMetric(metric, 'api', 'Sum', { label });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      graph('Requests and errors', [requests, serverErrors, clientErrors], [errorRate]),
      graph('Produce and fetch latency (ms)', [
        latency(SLUICE_METRICS.produceLatency, 'p50'),
        produceP99,
        latency(SLUICE_METRICS.fetchLatency, 'p50'),
        latency(SLUICE_METRICS.fetchLatency, 'p99'),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Produced records and bytes',
        [apiSum(SLUICE_METRICS.produceRecords, 'records')],
        [apiSum(SLUICE_METRICS.produceBytes, 'bytes')],
      ),
      graph('Fetched bytes', [apiSum(SLUICE_METRICS.fetchBytes, 'bytes')]),
    );
    this.dashboard.addWidgets(
      graph('Errors by code', [
        // One line per `code` dimension value, whatever codes occur.
        new cloudwatch.MathExpression({
          expression: `SEARCH('Namespace="${SLUICE_NAMESPACE}" MetricName="${SLUICE_METRICS.errors}"', 'Sum', ${PERIOD.toSeconds()})`,
          usingMetrics: {},
          period: PERIOD,
          label: '',
        }),
      ]),
      graph('Commit conflicts, holes filled, hedged requests', [
        apiSum(SLUICE_METRICS.commitConflicts, 'commit conflicts'),
        apiSum(SLUICE_METRICS.holesFilled, 'holes filled (api)'),
        // Maintenance reads partitions too, and fills the holes it finds.
        sluiceMetric(SLUICE_METRICS.holesFilled, 'maintenance', 'Sum', { label: 'holes filled (maintenance)' }),
        // S3 requests sent twice because the first was slow: the price of a shorter tail.
        apiSum(SLUICE_METRICS.hedgedRequests, 'hedged S3 requests'),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Maintenance',
        [sluiceMetric(SLUICE_METRICS.maintenanceTicks, 'maintenance', 'Sum', { label: 'ticks' })],
        [maintenanceErrors.with({ label: 'failed runs' })],
      ),
      graph('Throttles', [
        apiFunction.metricThrottles({ period: PERIOD, statistic: 'Sum', label: 'API' }),
        fetchFunction.metricThrottles({ period: PERIOD, statistic: 'Sum', label: 'fetch' }),
        streamFunction.metricThrottles({ period: PERIOD, statistic: 'Sum', label: 'stream' }),
        maintenanceFunction.metricThrottles({ period: PERIOD, statistic: 'Sum', label: 'maintenance' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Function errors (invocations that failed)',
        [
          apiFunction.metricErrors({ period: PERIOD, statistic: 'Sum', label: 'API' }),
          fetchFunction.metricErrors({ period: PERIOD, statistic: 'Sum', label: 'fetch' }),
          streamFunction.metricErrors({ period: PERIOD, statistic: 'Sum', label: 'stream' }),
        ],
      ),
      // Fetch duration is mostly long-poll wait (up to 20 s): billed, not a fault.
      graph('Function duration (ms)', [
        apiFunction.metricDuration({ period: PERIOD, statistic: 'p99', label: 'API p99' }),
        fetchFunction.metricDuration({ period: PERIOD, statistic: 'p50', label: 'fetch p50' }),
        fetchFunction.metricDuration({ period: PERIOD, statistic: 'p99', label: 'fetch p99' }),
      ]),
    );
    // Streams are long invocations: how many are open is what the concurrency cap limits.
    this.dashboard.addWidgets(
      graph('Open streams (stream function concurrent executions)', [
        streamFunction.metric('ConcurrentExecutions', { period: PERIOD, statistic: 'Maximum', label: 'open streams (max)' }),
      ]),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: Object.values(this.alarms),
        width: 24,
      }),
    );
  }
}
