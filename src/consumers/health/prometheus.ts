/**
 * `health: [{ prometheus: { url, query, window } }]`: a PromQL expression that must return
 * no series for the whole `window`, e.g. `rate(auth_failures_total{service="api"}[1m]) > 10`.
 * It is queried at once, then every `interval` until the window has passed; the first
 * series found fails the step there and then. Prometheus unreachable, answering an error
 * or refusing the query fails it too: Rotor cannot tell the service is healthy.
 *
 * Unlike the other kinds it is never retried: a retry would watch a fresh window and could
 * pass a service that was failing a moment ago. `timeout` limits each query.
 *
 * @example
 * health:
 *   - prometheus: { url: "http://prometheus:9090", query: 'rate(auth_failures_total{service="api"}[1m]) > 10', window: 2m }
 *     interval: 10s
 */
import { z } from 'zod';
import { durationSchema } from '../../config/common.js';
import { formatDuration, parseDuration } from '../../config/duration.js';
import { type ConsumerActionKind } from '../kinds.js';
import { shownUrl } from '../url-auth.js';
import { instantQuery, type Series } from './prometheus-query.js';

const MAX_WINDOW_MS = 3_600_000;
const ms = (d: string) => parseDuration(d) ?? 0;

export const prometheusHealthSchema = z.strictObject({
  prometheus: z.strictObject({
    url: z.url({ protocol: /^https?$/ }).max(4096).describe("Prometheus's base URL (user:password@ is sent as basic auth)"),
    query: z.string().min(1).max(4096).describe('PromQL that returns series only when the service is unhealthy'),
    window: durationSchema
      .default('30s')
      .refine((d) => ms(d) <= MAX_WINDOW_MS, 'at most 1h: the rotation waits for it')
      .describe('how long the query must keep returning nothing (0s: one query)'),
  }),
  timeout: durationSchema.default('10s').describe('give up on one query after this long'),
  retries: z.literal(0).default(0).describe('always 0: a series within the window fails the step at once'),
  interval: durationSchema
    .default('5s')
    .refine((d) => ms(d) >= 1000, 'at least 1s')
    .describe('wait between queries within the window'),
});
export type PrometheusHealthStep = z.infer<typeof prometheusHealthSchema>;

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

export const prometheusHealth = {
  schema: prometheusHealthSchema,
  recheckBeforeRetire: true,
  check(raw) {
    if (!Object.hasOwn(raw, 'prometheus') || raw.retries === undefined || raw.retries === 0) return undefined;
    return 'a prometheus health step takes no retries (a retry would watch a fresh window and could pass a failing service); lengthen its window instead';
  },
  async run({ step, input, timeoutMs }) {
    const { url, query } = step.prometheus;
    const windowMs = ms(step.prometheus.window);
    const start = Date.now();
    let queries = 0;
    for (;;) {
      const series = await instantQuery({ url, query, timeoutMs });
      queries++;
      const elapsed = Date.now() - start;
      if (series.length) {
        throw new Error(input.redact(`${query} returned ${describe(series)} after ${formatDuration(Math.round(elapsed / 1000) * 1000)} of its ${step.prometheus.window} window (Prometheus at ${shownUrl(url)})`));
      }
      if (elapsed >= windowMs) break;
      await sleep(Math.min(ms(step.interval), windowMs - elapsed));
    }
    return `${shownUrl(url)}: no series for ${query} over ${step.prometheus.window} (${queries} quer${queries === 1 ? 'y' : 'ies'})`;
  },
} satisfies ConsumerActionKind<PrometheusHealthStep>;

/** The first few series, as Prometheus shows them: `{service="api"} 13.2`. */
function describe(series: Series[]): string {
  const shown = series.slice(0, 3).map((s) => {
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
    return `{${labels}} ${s.value}`;
  });
  const more = series.length > shown.length ? ` and ${series.length - shown.length} more` : '';
  return `${series.length} series: ${shown.join(', ')}${more}`;
}
