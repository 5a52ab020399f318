/**
 * One instant query against Prometheus's HTTP API (`/api/v1/query`), for the `prometheus`
 * health kind. Every way it can go wrong — unreachable, no answer in time, an answer that
 * is not Prometheus's, a query Prometheus refuses — throws an Error that says which, since
 * each means Rotor cannot tell whether the service is healthy.
 *
 * @example
 * const series = await instantQuery({ url: 'http://127.0.0.1:9090', query: 'up == 0', timeoutMs: 5_000 });
 */
import { shownUrl, withoutCredentials } from '../url-auth.js';
import { z } from 'zod';

const sampleSchema = z.tuple([z.number(), z.string()]);
const seriesSchema = z.object({
  metric: z.record(z.string(), z.string()),
  value: sampleSchema.optional(),
  values: z.array(sampleSchema).optional(),
});
const answerSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.enum(['vector', 'matrix']), result: z.array(seriesSchema) }),
      z.object({ resultType: z.enum(['scalar', 'string']), result: sampleSchema }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

export interface Series {
  labels: Record<string, string>;
  /** The last sample's value, as Prometheus writes it ("13.2", "NaN", "+Inf"). */
  value: string;
}

export interface QueryRequest {
  /** Prometheus's base URL (a path prefix is kept); `user:password@` becomes basic auth. */
  url: string;
  query: string;
  timeoutMs: number;
}


/** The series `query` returns now. A scalar or string result is refused: it is never "a series". */
export async function instantQuery(req: QueryRequest): Promise<Series[]> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...withoutCredentials(req.url).headers };
  const endpoint = new URL('api/v1/query', shownUrl(req.url) + '/');
  // Prometheus stops evaluating at its own `timeout` too, rather than working on for no one.
  const body = new URLSearchParams({ query: req.query, timeout: String(req.timeoutMs / 1000) });
  const where = `Prometheus at ${shownUrl(req.url)}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(req.timeoutMs) });
    text = await res.text();
  } catch (err) {
    throw new Error(`${where} cannot be reached, so the service's health is unknown: ${unreachableReason(err, req.timeoutMs)}`, { cause: err });
  }
  const answer = parseAnswer(text);
  if (!answer) throw new Error(`${where} answered ${res.status} with something other than the query API's JSON; is url Prometheus's base URL?`);
  if (answer.status === 'error') {
    throw new Error(`${where} refused the query (${res.status} ${answer.errorType ?? 'error'}): ${answer.error ?? 'no reason given'}`);
  }
  const { data } = answer;
  if (data.resultType !== 'vector' && data.resultType !== 'matrix') {
    throw new Error(`the query returns a ${data.resultType}, not series: write it as a filter over series, e.g. rate(x[1m]) > 10`);
  }
  return data.result.map((s) => ({ labels: s.metric, value: (s.value ?? s.values?.at(-1))?.[1] ?? '' }));
}

function parseAnswer(text: string): z.infer<typeof answerSchema> | undefined {
  try {
    const parsed = answerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** fetch() says only "fetch failed"; the reason (ECONNREFUSED, a DNS error) is in its cause. */
function unreachableReason(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000}s`;
  if (e.cause) return e.cause.code ? `${e.cause.code} (${e.cause.message})` : e.cause.message;
  return e.message;
}
