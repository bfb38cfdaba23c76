import { Histogram, Registry } from 'prom-client';
import { RequestDurations } from './request-durations';

describe('RequestDurations', () => {
  const buckets = [0.001, 0.01, 0.1];

  it('renders exactly what a prom-client histogram with the same observations renders', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const durations = new RequestDurations(buckets, ours);
    const reference = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status class',
      labelNames: ['method', 'route', 'status_class'] as const,
      buckets,
      registers: [theirs],
    });
    const observations: Array<[string, string | undefined, number, number]> = [
      ['GET', '/api/keys', 200, 0.0005],
      ['GET', '/api/keys', 200, 0.001], // on a bound: counted in that bucket (le = less or equal)
      ['GET', '/api/keys', 204, 0.05],
      ['GET', '/api/keys', 404, 0.2], // past the last bound: +Inf only
      ['DELETE', '/api/keys/:id', 500, 0.002],
      ['GET', undefined, 404, 0.003],
      ['GET', '/x', 999, 0.003],
    ];
    const classOf = (status: number) => (status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other');
    for (const [method, route, status, seconds] of observations) {
      durations.observe(method, route, status, seconds);
      reference.labels(method, route ?? 'unmatched', classOf(status)).observe(seconds);
    }
    const lines = (text: string) => text.trim().split('\n').sort();
    expect(lines(await ours.metrics())).toEqual(lines(await theirs.metrics()));
  });

  it('starts over on reset', async () => {
    const registry = new Registry();
    const durations = new RequestDurations(buckets, registry);
    durations.observe('GET', '/a', 200, 0.01);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('route="/a"');
  });
});
