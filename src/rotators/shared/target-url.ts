/**
 * Reading admin URLs from `targets`. The URL carries the admin password: only host, port,
 * user and database ever leave this module in a message.
 */
import type { TargetRef } from '../types.js';
import { RotorError, TargetUnreachableError } from '../../errors.js';

export interface TargetAddress {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Path of the URL without the slash: a database name, or a Redis db number. */
  database: string;
  params: URLSearchParams;
}

export function parseTargetUrl(target: TargetRef, defaultPort: number): TargetAddress {
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    // Never echo the URL: it holds a password.
    throw new RotorError(`targets.${target.name}.url is not a URL`, { outcome: 'usage', hint: `write it like ${target.type}://admin:\${PASSWORD}@host:port/` });
  }
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : defaultPort,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    params: url.searchParams,
  };
}

/** "main-db (127.0.0.1:5432)": how messages name a target. */
export function describeTarget(target: TargetRef, addr: Pick<TargetAddress, 'host' | 'port'>): string {
  return `target ${target.name} (${addr.host}:${addr.port})`;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ECONNRESET: 'dropped the connection',
  ETIMEDOUT: 'did not answer in time',
  EHOSTUNREACH: 'is unreachable',
  ENOTFOUND: 'has a host name that does not resolve',
  EPIPE: 'dropped the connection',
};

/** A network failure as a message that says what to check; undefined when `err` is something else. */
export function networkProblem(err: unknown, where: string): TargetUnreachableError | undefined {
  const code = (err as { code?: unknown }).code;
  const text = err instanceof Error ? err.message : '';
  const what = typeof code === 'string' ? NETWORK[code] : /timeout|timed out/i.test(text) ? NETWORK.ETIMEDOUT : /Connection terminated|Connection is closed/i.test(text) ? NETWORK.ECONNRESET : undefined;
  if (!what) return undefined;
  return new TargetUnreachableError(`${where} ${what}`, err);
}
