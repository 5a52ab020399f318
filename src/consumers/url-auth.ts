/**
 * URLs of health checks, reloads and Prometheus that carry `user:password@`: fetch() refuses
 * a URL with credentials in it, and messages must not show them. The credentials become a
 * basic Authorization header; what messages show is the URL without them.
 *
 * @example
 * const { url, headers, shown } = withoutCredentials('https://ops:s3cret@api.internal/health');
 * await fetch(url, { headers });   // shown: https://api.internal/health
 */
export interface SplitUrl {
  /** The URL to fetch: no credentials. */
  url: string;
  /** `authorization: Basic …` when the URL had credentials; nothing otherwise. */
  headers: Record<string, string>;
  /** The same as `url` without a trailing slash, for messages. */
  shown: string;
}

export function withoutCredentials(text: string): SplitUrl {
  const u = new URL(text);
  const headers: Record<string, string> = {};
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return { url: u.href, headers, shown: shownUrl(u.href) };
}

/** The URL without its credentials: what messages may show. */
export function shownUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.href.replace(/\/$/, '');
}
