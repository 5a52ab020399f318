/**
 * Durations as people write them in rotor.yaml: `30s`, `15m`, `24h`, `90d`, `2w`.
 * Kept free of zod so that commands which only format durations stay light.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const PATTERN = /^(\d{1,9})(ms|s|m|h|d|w)$/;

/** Milliseconds for `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const m = PATTERN.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** The shortest exact spelling, e.g. 5400000 → `90m`, 86400000 → `1d`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A rough, human age: `3d`, `5h`, `12m`, `40s`. */
export function formatAge(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs >= UNIT_MS.d) return `${sign}${Math.floor(abs / UNIT_MS.d)}d`;
  if (abs >= UNIT_MS.h) return `${sign}${Math.floor(abs / UNIT_MS.h)}h`;
  if (abs >= UNIT_MS.m) return `${sign}${Math.floor(abs / UNIT_MS.m)}m`;
  return `${sign}${Math.floor(abs / UNIT_MS.s)}s`;
}
