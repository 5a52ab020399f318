/**
 * What Rotor ships for Prometheus and Grafana (deploy/) against what `rotor serve` exports:
 * - promtool accepts the rule file and its unit tests pass (its output is printed when not);
 * - the dashboard's queries use only exported metric names (or the recording rule), show
 *   every exported one, and parse in a real Prometheus.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, type PrometheusServer } from '../helpers/servers/prometheus.js';

const root = resolve(import.meta.dirname, '../..');
const rules = join(root, 'deploy/prometheus/rotor-rules.yaml');
const ruleTests = join(root, 'deploy/prometheus/rotor-rules.test.yaml');
const dashboardFile = join(root, 'deploy/grafana/rotor-dashboard.json');

/** The metrics of SPEC "The daemon" (as the daemon's exporter names them) and the recording rule. */
const EXPORTED = [
  'rotor_secret_age_seconds', 'rotor_secret_due_timestamp_seconds', 'rotor_secret_expiry_timestamp_seconds',
  'rotor_rotations_total', 'rotor_rotation_duration_seconds', 'rotor_rotations_open',
  'rotor_rotation_open_oldest_seconds', 'rotor_last_success_timestamp_seconds', 'rotor_notifications_failed_total',
];
const HISTOGRAMS = ['rotor_rotation_duration_seconds'];
const RECORDED = ['secret_age_days'];
/** Exported for rules to join on (type, priority), not charted. */
const JOINED = ['rotor_secret_info'];
const allowed = new Set([...EXPORTED, ...HISTOGRAMS.flatMap((h) => ['_bucket', '_sum', '_count'].map((s) => h + s)), ...RECORDED, ...JOINED]);

function promtool(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, 'promtool'), constants.X_OK);
      return join(dir, 'promtool');
    } catch {
      // not in this directory
    }
  }
  throw new Error('promtool is not on PATH: run `scripts/setup.sh --test` (Debian package prometheus)');
}

function runPromtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(promtool(), args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `$ promtool ${args.join(' ')}\n${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
}

describe('deploy/prometheus/rotor-rules.yaml', () => {
  it('passes promtool check rules', () => {
    const r = runPromtool('check', 'rules', rules);
    expect(r.status, r.output).toBe(0);
  });

  it('passes its promtool unit tests', () => {
    const r = runPromtool('test', 'rules', ruleTests);
    expect(r.status, r.output).toBe(0);
  });
});

interface Panel {
  title?: string;
  type: string;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  schemaVersion: number;
  templating: { list: { name: string; type: string; query?: string }[] };
  panels: Panel[];
}

const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;
/** Every panel, rows' collapsed panels included. */
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? '?', expr: t.expr ?? '' })));

/**
 * The metric names a PromQL expression selects: identifiers left once strings, label
 * matchers, ranges, grouping label lists, Grafana variables and keywords are taken out,
 * and not called like functions.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+|\$\{[^}]*\}/g, ' ');
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);
  return [...stripped.matchAll(/([A-Za-z_:][\w:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined && !keywords.has(m[1]!.toLowerCase()))
    .map((m) => m[1]!);
}

describe('deploy/grafana/rotor-dashboard.json', () => {
  it('is a dashboard of schema ~39 whose panels read a Prometheus datasource variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    expect(panels.length).toBeGreaterThanOrEqual(7);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('queries only metrics rotor serve exports, and every one of them', () => {
    const used = new Set<string>();
    for (const { panel, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(allowed.has(name), `${panel}: ${expr} uses ${name}, which rotor serve does not export`).toBe(true);
        used.add(HISTOGRAMS.find((h) => name.startsWith(`${h}_`)) ?? name);
      }
    }
    // The recording rule is allowed but not needed: the dashboard works without the rules loaded.
    expect(EXPORTED.filter((m) => !used.has(m))).toEqual([]);
  });

  it('finds metric names the way PromQL reads them', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (type, le) (rate(rotor_rotation_duration_seconds_bucket{type="x"}[$__rate_interval])))'))
      .toEqual(['rotor_rotation_duration_seconds_bucket']);
    expect(metricNames('count(time() - min by (secret) (a_b) > 0) or vector(0) * on (secret) group_left (type) c')).toEqual(['a_b', 'c']);
  });

  describe('in a real Prometheus', () => {
    let prom: PrometheusServer;
    beforeAll(async () => {
      prom = await startPrometheus();
    });
    afterAll(async () => {
      await prom?.stop();
    });

    it('parses every query', async () => {
      for (const { panel, expr } of exprs) {
        const promql = expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '1m').replaceAll('$__range', '1h');
        await expect(prom.query(promql), `${panel}: ${expr}`).resolves.toBeInstanceOf(Array);
      }
    });
  });
});
