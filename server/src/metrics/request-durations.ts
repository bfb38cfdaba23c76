import type { MetricObjectWithValues, MetricType, MetricValueWithName, Registry } from 'prom-client';

// prom-client declares MetricType as an enum in its types only; at run time it is the string.
const HISTOGRAM = 'histogram' as unknown as MetricType;

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

interface Series {
  labels: { method: string; route: string; status_class: string };
  /** Per bucket (not cumulative), the last one for +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * `http_request_duration_seconds`, by method, route template and status class: a Prometheus
 * histogram recorded on every request, so its recording is a few array operations — nested maps
 * to the series, a bucket search, three additions — instead of prom-client's per-observation
 * label validation, hashing and allocations. It registers in the app's prom-client registry and
 * renders there like any prom-client histogram (`_bucket` with `le`, `_sum`, `_count`).
 */
export class RequestDurations {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'HTTP requests by method, route template and status class';
  readonly type = HISTOGRAM;
  readonly aggregator = 'sum';
  /** route → method → status class index → series */
  private readonly series = new Map<string, Map<string, Array<Series | undefined>>>();

  constructor(
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  observe(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    const template = route ?? 'unmatched';
    let byMethod = this.series.get(template);
    if (!byMethod) this.series.set(template, (byMethod = new Map()));
    let byClass = byMethod.get(method);
    if (!byClass) byMethod.set(method, (byClass = []));
    const index = statusCode >= 100 && statusCode < 600 ? Math.floor(statusCode / 100) : 0;
    let entry = byClass[index];
    if (!entry) {
      entry = {
        labels: { method, route: template, status_class: STATUS_CLASSES[index] },
        counts: new Array<number>(this.buckets.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      byClass[index] = entry;
    }
    let bucket = 0;
    while (bucket < this.buckets.length && seconds > this.buckets[bucket]) bucket++;
    entry.counts[bucket]++;
    entry.sum += seconds;
    entry.count++;
  }

  get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: Array<MetricValueWithName<string>> = [];
    for (const byMethod of this.series.values())
      for (const byClass of byMethod.values())
        for (const entry of byClass) {
          if (!entry) continue;
          let cumulative = 0;
          this.buckets.forEach((le, i) => {
            cumulative += entry.counts[i];
            values.push({ metricName: `${this.name}_bucket`, labels: { le, ...entry.labels }, value: cumulative });
          });
          values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...entry.labels }, value: entry.count });
          values.push({ metricName: `${this.name}_sum`, labels: { ...entry.labels }, value: entry.sum });
          values.push({ metricName: `${this.name}_count`, labels: { ...entry.labels }, value: entry.count });
        }
    return Promise.resolve({ name: this.name, help: this.help, type: HISTOGRAM, aggregator: 'sum', collect: () => undefined, values });
  }

  reset(): void {
    this.series.clear();
  }
}
