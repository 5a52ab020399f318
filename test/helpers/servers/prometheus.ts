/**
 * A private Prometheus on a random loopback port, its TSDB in a temp directory removed on
 * stop, scraping the jobs it is given every `scrapeInterval` (1s by default, so a test sees
 * a change within seconds). `query` and `waitFor` ask it over its HTTP API.
 *
 * @example
 * const prom = await startPrometheus({ jobs: [{ name: 'rotor', targets: ['127.0.0.1:8200'], bearerToken }] });
 * await prom.waitFor('rotor_secret_age_seconds', (r) => r.length > 0);
 * await prom.stop();
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, serverDir, startProcess, stopper } from './common.js';

export interface ScrapeJob {
  name: string;
  /** `host:port` of each target. */
  targets: string[];
  /** Default `/metrics`. */
  metricsPath?: string;
  /** Sent as `Authorization: Bearer …` (written to a file, never argv). */
  bearerToken?: string;
}

export interface PrometheusOptions {
  jobs?: ScrapeJob[];
  /** Default `1s`; also the rule evaluation interval. */
  scrapeInterval?: string;
  /** Rule files (absolute paths) it loads and evaluates. */
  ruleFiles?: string[];
}

/** One series of an instant query's vector result. */
export interface QueriedSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusServer {
  port: number;
  /** Its base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  dir: string;
  log(): string;
  /** An instant query; throws with Prometheus's error on a refused query or a non-vector result. */
  query(promql: string): Promise<QueriedSeries[]>;
  /** Queries every 250 ms until `done` holds for the result; throws after `timeoutMs` (30 s). */
  waitFor(promql: string, done: (result: QueriedSeries[]) => boolean, timeoutMs?: number): Promise<QueriedSeries[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: PrometheusOptions = {}): Promise<PrometheusServer> {
  const dir = serverDir('rotor-prometheus-');
  const port = await freePort();
  const interval = opts.scrapeInterval ?? '1s';
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(configOf(dir, interval, opts)), { mode: 0o600 }); // JSON is YAML
  const { child, log } = startProcess('prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const stop = stopper(child, dir);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child, log);
  } catch (err) {
    await stop(); // a server that never became ready is no one's to stop later
    throw err;
  }
  const query = (promql: string) => instant(url, promql);
  return {
    port, url, dir, log, query, stop,
    async waitFor(promql, done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: QueriedSeries[] = [];
      while (Date.now() < deadline) {
        last = await query(promql);
        if (done(last)) return last;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`${promql} did not reach the expected result within ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${log()}`);
    },
  };
}

function configOf(dir: string, interval: string, opts: PrometheusOptions) {
  return {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: (opts.jobs ?? []).map((job) => {
      const tokenFile = join(dir, `${job.name}.token`);
      if (job.bearerToken !== undefined) writeFileSync(tokenFile, job.bearerToken, { mode: 0o600 });
      return {
        job_name: job.name,
        metrics_path: job.metricsPath ?? '/metrics',
        static_configs: [{ targets: job.targets }],
        ...(job.bearerToken !== undefined ? { authorization: { type: 'Bearer', credentials_file: tokenFile } } : {}),
      };
    }),
  };
}

async function waitReady(url: string, child: { exitCode: number | null }, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log()}`);
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus was not ready within ${timeoutMs} ms:\n${log()}`);
}

async function instant(url: string, promql: string): Promise<QueriedSeries[]> {
  const res = await fetch(`${url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: promql }) });
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: QueriedSeries[] } };
  if (body.status !== 'success' || body.data?.resultType !== 'vector') {
    throw new Error(`query ${promql}: ${body.error ?? `a ${body.data?.resultType ?? 'missing'} result, not a vector`}`);
  }
  return body.data.result;
}
