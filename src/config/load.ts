/**
 * rotor.yaml → RotorConfig: parse (YAML, keeping positions), interpolate `${VAR}`,
 * validate (zod, then each rotator's own schema), check cross-references (rules.ts).
 * Every problem found is reported at once, each with its file and line.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CORE_SCHEMA, load } from 'js-yaml';
import { isNode, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { deliveryTargetWithPaths } from '../delivery/registry.js';
import { rotatorRegistry, isRotatorType, rotatorTypes } from '../rotators/registry.js';
import { stateWithPaths } from '../state/registry.js';
import { isVersionStoreConfig, versionStoreWithPaths } from '../stores/registry.js';
import { toWindow } from '../schedule/policy.js';
import { parseListen } from './common.js';
import { parseDuration } from './duration.js';
import { checkConfigRules, checkReferences, type RuleProblem } from './rules.js';
import { configSchema, secretCommonSchema, type RawConfig, type RotorConfig, type SecretConfig, type ServeConfig, type StoreConfig } from './schema.js';

export interface LoadResult {
  config: RotorConfig;
  warnings: ConfigProblem[];
}

const COMMON_KEYS = new Set(Object.keys(secretCommonSchema.shape));

export interface LoadOptions {
  /**
   * Read-only commands (status, history, get, audit, plan --offline, backup verify) never
   * reach a target: an unset `${VAR}` in a target's URL stays as written instead of being
   * an error, so an auditor needs no database admin credentials to read status.
   */
  unsetVarsAllowed?: boolean;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): LoadResult {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        file: path,
        path: '',
        message: code === 'ENOENT' ? 'no such file; run `rotor init` to write a starter rotor.yaml, or pass --config PATH' : `cannot read (${code})`,
      },
    ]);
  }
  return parseConfig(text, path, env, opts);
}

/**
 * Two paths to the same result. The fast one (js-yaml, no positions) serves every valid
 * file; at the first sign of a problem the precise one (yaml, with positions) parses again
 * so that every message names its line. Both share `validate`, so they cannot disagree on
 * what is valid, only on how well they point at it.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv, opts: LoadOptions = {}): LoadResult {
  return parseFast(text, file, env, opts) ?? parsePrecise(text, file, env, opts);
}

function parseFast(text: string, file: string, env: NodeJS.ProcessEnv, opts: LoadOptions): LoadResult | undefined {
  let js: unknown;
  try {
    // CORE_SCHEMA: the YAML 1.2 types the precise parser uses too (no timestamps, no merge keys).
    js = load(text, { schema: CORE_SCHEMA }) ?? {};
  } catch {
    return undefined;
  }
  let missing = false;
  const vars = targetVars(js);
  const interpolated = mapStrings(js, (value) => substitute(value, env, (name) => (missing ||= !(opts.unsetVarsAllowed && vars.includes(name)))));
  if (missing) return undefined;
  const result = validate(interpolated, file, () => ({}), vars);
  return result.problems.length || result.warnings.length ? undefined : { config: result.config!, warnings: [] };
}

function parsePrecise(text: string, file: string, env: NodeJS.ProcessEnv, opts: LoadOptions): LoadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => (offset === undefined ? {} : lines.linePos(offset));
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    problems.push({ file, ...at(e.pos[0]), path: '', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (problems.length) throw new ConfigError(problems);

  const vars = targetVars(doc.toJS());
  interpolate(doc, env, (offset, message, name) => {
    if (!(opts.unsetVarsAllowed && vars.includes(name))) problems.push({ file, ...at(offset), path: '', message });
  });
  if (problems.length) throw new ConfigError(problems);

  const result = validate(doc.toJS() ?? {}, file, (path) => lineOf(doc, path, at), vars);
  if (result.problems.length) throw new ConfigError(sortByLine(result.problems));
  return { config: result.config!, warnings: result.warnings };
}

type Locate = (path: (string | number)[]) => { line?: number; column?: number };

/** The `${VAR}` names the targets' URLs use, read before interpolation. */
function targetVars(js: unknown): string[] {
  const targets = isRecord(js) && isRecord(js.targets) ? Object.values(js.targets) : [];
  const names = new Set<string>();
  for (const t of targets) {
    if (!isRecord(t) || typeof t.url !== 'string') continue;
    for (const m of t.url.matchAll(VAR)) if (m[1]) names.add(m[1]);
  }
  return [...names];
}

function validate(
  js: unknown, file: string, locate: Locate, targetEnv: string[],
): { config?: RotorConfig; problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const problem = (path: (string | number)[], message: string) => problems.push({ file, ...locate(path), path: path.join('.'), message });

  const parsed = configSchema.safeParse(js);
  if (!parsed.success) for (const issue of parsed.error.issues) problem(issue.path as (string | number)[], describeIssue(issue));
  const located = (r: RuleProblem): ConfigProblem => ({ file, ...locate(r.at), path: r.at.join('.'), message: r.message });
  // References are checked beside the schema, so "every problem at once" holds for them too.
  const references = checkReferences(js);
  problems.push(...references.errors.map(located));

  // Type-specific fields are checked even when other fields are wrong, so one run shows all.
  const specs = new Map<number, unknown>();
  const rawSecrets = isRecord(js) && Array.isArray(js.secrets) ? js.secrets : [];
  rawSecrets.forEach((s: unknown, i) => {
    if (!isRecord(s) || typeof s.type !== 'string') return;
    if (!isRotatorType(s.type)) {
      problem(['secrets', i, 'type'], `unknown type "${s.type}"; known types: ${rotatorTypes.join(', ')}`);
      return;
    }
    const rest = Object.fromEntries(Object.entries(s).filter(([k]) => !COMMON_KEYS.has(k)));
    const spec = rotatorRegistry[s.type].schema.safeParse(rest);
    if (spec.success) specs.set(i, spec.data);
    else for (const issue of spec.error.issues) problem(['secrets', i, ...(issue.path as (string | number)[])], describeIssue(issue));
  });
  if (!parsed.success || problems.length) return { problems, warnings: references.warnings.map(located) };
  const raw = parsed.data;
  const dir = dirname(file);

  const secrets: SecretConfig[] = raw.secrets.map((s, i) => ({
    id: s.id,
    type: s.type,
    store: s.store,
    target: s.target,
    intervalMs: s.interval === undefined ? undefined : parseDuration(s.interval),
    ...(s.schedule === undefined ? {} : { schedule: s.schedule }),
    ...(s.window === undefined ? {} : { window: toWindow(s.window) }),
    ...(s.remind === undefined ? {} : { remindMs: parseDuration(s.remind) }),
    graceMs: parseDuration(s.grace ?? raw.defaults.grace) ?? 0,
    priority: s.priority,
    after: s.after,
    consumers: s.consumers,
    description: s.description,
    spec: specs.get(i),
    ...(s.timeouts === undefined ? {} : { timeoutsMs: timeoutsMs(s.timeouts) }),
  }));

  // The `local` version store always exists (SPEC); each kind resolves its own paths.
  const named: Record<string, StoreConfig> = { local: { type: 'local', path: '.rotor/vault' }, ...raw.stores };
  const stores = Object.fromEntries(Object.entries(named).map(([name, store]) => [name, storeWithPaths(store, dir)]));

  const config: RotorConfig = {
    file,
    dir,
    state: stateWithPaths(raw.state, dir),
    concurrency: raw.defaults.concurrency,
    deliveryBackups: raw.defaults.deliveryBackups,
    stepTimeoutMs: parseDuration(raw.defaults.stepTimeout),
    targets: raw.targets,
    stores,
    consumers: raw.consumers,
    secrets,
    serve: serveConfig(raw.serve, dir),
    notify: raw.notify,
    ...(raw.masterKey ? { masterKey: { kms: { ...raw.masterKey.kms, ciphertextFile: resolve(dir, raw.masterKey.kms.ciphertextFile) } } } : {}),
    targetEnv,
  };
  const { errors, warnings } = checkConfigRules(config, js);
  return { config, problems: errors.map(located), warnings: [...references.warnings, ...warnings].map(located) };
}

function serveConfig(raw: RawConfig['serve'], dir: string): ServeConfig {
  const ms = (text: string) => parseDuration(text) ?? 0;
  return {
    ...parseListen(raw.listen)!, // the schema has checked it
    ...(raw.tls ? { tls: { cert: resolve(dir, raw.tls.cert), key: resolve(dir, raw.tls.key) } } : {}),
    metricsToken: raw.metricsToken,
    tickMs: ms(raw.tick),
    retry: { initialMs: ms(raw.retry.initial), maxMs: ms(raw.retry.max) },
    shutdownTimeoutMs: ms(raw.shutdownTimeout),
  };
}

function storeWithPaths(store: StoreConfig, dir: string): StoreConfig {
  return isVersionStoreConfig(store) ? versionStoreWithPaths(store, dir) : deliveryTargetWithPaths(store, dir);
}

/** `timeouts` of a secret in ms; the schema has checked every duration. */
function timeoutsMs(timeouts: Partial<Record<string, string>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [step, text] of Object.entries(timeouts)) if (text !== undefined) out[step] = parseDuration(text) ?? 0;
  return out;
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const sortByLine = (ps: ConfigProblem[]) => [...ps].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));

/** The line of the deepest node on `path` that exists (a missing key points at its parent). */
function lineOf(doc: Document, path: (string | number)[], at: (offset: number | undefined) => { line?: number; col?: number }): { line?: number; column?: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = at(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_value' && issue.values.length) return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return `required (${issue.expected})`;
  return issue.message;
}

const VAR = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${VAR}` from `env`; `$${` stands for a literal `${`. An unset variable stays as written. */
function substitute(text: string, env: NodeJS.ProcessEnv, onMissing: (name: string) => void): string {
  return text.replace(VAR, (match, name: string | undefined) => {
    if (name === undefined) return '${';
    const value = env[name];
    if (value === undefined) onMissing(name);
    return value ?? match;
  });
}

/** `substitute` on every string scalar of the document, reporting unset variables at their position. */
function interpolate(doc: Document, env: NodeJS.ProcessEnv, report: (offset: number | undefined, message: string, name: string) => void): void {
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${')) return;
      node.value = substitute(node.value, env, (name) => report(node.range?.[0], `environment variable ${name} is not set (referenced as \${${name}})`, name));
    },
  });
}
