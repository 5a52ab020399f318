/**
 * What a consumer does with a value: deliver it into files, reload the service, and wait
 * for its health checks; consumers/round.ts runs them in order. Each throws a ConsumerError
 * that says which consumer and which step failed; the engine turns that into a rollback.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import type { ConsumerConfig, HealthStep, ReloadStep, RotorConfig } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { RotorError } from '../errors.js';
import type { SecretValue } from '../rotators/types.js';
import { assignInFile, FILE_FORMATS, replaceFile } from '../stores/config-files/file.js';
import type { Assignment } from '../stores/config-files/types.js';
import { describeCommand, runCommand } from './run-command.js';

export class ConsumerError extends RotorError {
  constructor(consumer: string, message: string, hint?: string) {
    super(`consumer ${consumer}: ${message}`, { outcome: 'rolled-back', hint });
  }
}

const ms = (d: string) => parseDuration(d) ?? 30_000;

/** Why an attempt failed. fetch() says only "fetch failed"; the reason (ECONNREFUSED, a DNS error) is in its cause. */
function reason(err: unknown, timeout: string): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeout}`;
  if (e.message === 'fetch failed' && e.cause) return e.cause.code ? `${e.cause.code} (${e.cause.message})` : e.cause.message;
  return e.message;
}
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** The text delivered for a value: one field, a plain string, or the structured value as JSON. */
export function deliveredText(value: SecretValue, field: string | undefined, consumer: string): string {
  if (field === undefined) return typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'string' || !Object.hasOwn(value, field)) throw new ConsumerError(consumer, `the value has no field "${field}"`, 'fix `field` in the consumer\'s deliver list');
  const f = value[field];
  return typeof f === 'string' ? f : JSON.stringify(f);
}

/** The deliveries of `consumer` that are for `secretId`: those that name it, or name no secret. */
export function deliveriesFor(consumer: ConsumerConfig, secretId: string): ConsumerConfig['deliver'] {
  return consumer.deliver.filter((d) => d.secret === undefined || d.secret === secretId);
}

/** Writes what `consumer` takes of `secretId`'s value. `changed`: whether any file's content changed. */
export async function deliver(
  config: RotorConfig, name: string, consumer: ConsumerConfig, value: SecretValue, secretId: string,
): Promise<{ lines: string[]; changed: boolean }> {
  // One write per file, however many keys go into it.
  const byStore = new Map<string, Assignment[]>();
  const done: string[] = [];
  let changed = false;
  for (const d of deliveriesFor(consumer, secretId)) {
    if ('template' in d) {
      const rendered = await renderTemplate(config, name, d, value);
      done.push(rendered.line);
      changed ||= rendered.changed;
      continue;
    }
    const list = byStore.get(d.store) ?? [];
    list.push({ key: d.key, value: deliveredText(value, d.field, name) });
    byStore.set(d.store, list);
  }
  for (const [storeName, assignments] of byStore) {
    const store = config.stores[storeName]!;
    if (store.type === 'local') continue;
    try {
      const change = await assignInFile(FILE_FORMATS[store.type], store.path, assignments, { backupDir: join(config.dir, '.rotor', 'backups', storeName) });
      done.push(`${change.changed ? 'wrote' : 'unchanged'} ${assignments.map((a) => a.key).join(', ')} in ${storeName}`);
      changed ||= change.changed;
    } catch (err) {
      throw new ConsumerError(name, `cannot deliver into ${storeName} (${store.path}): ${(err as Error).message}`, 'the file was left as it was; fix it or the store path');
    }
  }
  return { lines: done, changed };
}

/** Renders `{{ field }}` (and `{{ value }}`) placeholders; an unknown placeholder is an error, never an empty string. */
async function renderTemplate(
  config: RotorConfig, name: string, d: { template: string; to: string }, value: SecretValue,
): Promise<{ line: string; changed: boolean }> {
  let text: string;
  try {
    text = readFileSync(resolve(config.dir, d.template), 'utf8');
  } catch (err) {
    throw new ConsumerError(name, `cannot read template ${d.template}: ${(err as Error).message}`);
  }
  const rendered = text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, field: string) => deliveredText(value, field === 'value' ? undefined : field, name));
  const change = await replaceFile(resolve(config.dir, d.to), () => rendered, { backupDir: join(config.dir, '.rotor', 'backups', 'templates') });
  return { line: change.changed ? `rendered ${d.template} into ${d.to}` : `unchanged ${d.to}`, changed: change.changed };
}

async function attempt<T>(step: { timeout: string; retries: number; interval: string }, fn: (timeoutMs: number) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i <= step.retries; i++) {
    if (i) await sleep(ms(step.interval));
    try {
      return await fn(ms(step.timeout));
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

export async function reload(config: RotorConfig, name: string, step: ReloadStep, value: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    return await attempt(step, async (timeoutMs) => {
      if ('command' in step) {
        const r = await runCommand(step.command, { shell: step.shell, stdin: value, timeoutMs, env, cwd: config.dir });
        if (r.timedOut) throw new Error(`\`${describeCommand(step.command)}\` did not finish within ${step.timeout}`);
        if (r.code !== 0) throw new Error(`\`${describeCommand(step.command)}\` exited ${r.code ?? r.signal}${r.output ? `: ${r.output.split('\n').slice(-3).join(' | ')}` : ''}`);
        return `ran \`${describeCommand(step.command)}\``;
      }
      if ('http' in step) {
        const res = await fetch(step.http, { method: step.method, signal: AbortSignal.timeout(timeoutMs) });
        if (!res.ok) throw new Error(`${step.method} ${step.http} answered ${res.status}`);
        return `${step.method} ${step.http}: ${res.status}`;
      }
      const pid = step.pid ?? Number(readFileSync(resolve(config.dir, step.pidfile!), 'utf8').trim());
      if (!Number.isInteger(pid) || pid < 2) throw new Error(`no usable pid in ${step.pidfile}`);
      process.kill(pid, `SIG${step.signal}`);
      return `sent SIG${step.signal} to ${pid}`;
    });
  } catch (err) {
    throw new ConsumerError(name, `reload failed: ${reason(err, step.timeout)}`);
  }
}

export async function health(config: RotorConfig, name: string, step: HealthStep): Promise<string> {
  try {
    return await attempt(step, async (timeoutMs) => {
      if ('http' in step) {
        const res = await fetch(step.http, { signal: AbortSignal.timeout(timeoutMs) });
        const body = await res.text();
        if (res.status !== step.status) throw new Error(`${step.http} answered ${res.status}, expected ${step.status}`);
        if (step.body !== undefined && !new RegExp(step.body).test(body)) throw new Error(`${step.http} body does not match /${step.body}/`);
        return `${step.http}: ${res.status}`;
      }
      if ('tcp' in step) {
        const [host, port] = [step.tcp.slice(0, step.tcp.lastIndexOf(':')), Number(step.tcp.slice(step.tcp.lastIndexOf(':') + 1))];
        await new Promise<void>((resolve, reject) => {
          const s = connect({ host, port, timeout: timeoutMs });
          s.once('connect', () => (s.destroy(), resolve()));
          s.once('timeout', () => (s.destroy(), reject(new Error(`${step.tcp} did not accept a connection within ${step.timeout}`))));
          s.once('error', (err) => reject(new Error(`${step.tcp}: ${err.message}`)));
        });
        return `${step.tcp} accepts connections`;
      }
      const r = await runCommand(step.command, { shell: step.shell, stdin: '', timeoutMs, cwd: config.dir });
      if (r.timedOut || r.code !== 0) throw new Error(`\`${describeCommand(step.command)}\` ${r.timedOut ? `did not finish within ${step.timeout}` : `exited ${r.code ?? r.signal}`}`);
      return `\`${describeCommand(step.command)}\` ok`;
    });
  } catch (err) {
    throw new ConsumerError(name, `health check failed after ${step.retries + 1} attempt${step.retries ? 's' : ''}: ${reason(err, step.timeout)}`, 'the previous value was put back; check the service');
  }
}
