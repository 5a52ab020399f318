/**
 * When a secret is due, by its policy in rotor.yaml: `interval` after its current version
 * was made, or the first `schedule` (cron, UTC) occurrence after that, and only inside its
 * `window` (days and hours, UTC) when it has one. Pure functions of time: `rotor rotate
 * --due`, `rotor status` and the daemon's scheduler all ask here.
 *
 * @example
 * const at = dueAt(secret, summary.currentSince);      // ms, or undefined: never due by time
 * if (at !== undefined && at <= now && inWindow(secret.window, now)) rotate(secret);
 */
import { Cron } from 'croner';
import { z } from 'zod';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** A cron expression croner accepts (5 fields, or 6 with seconds); checked when the config loads. */
export const cronSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((text, ctx) => {
    try {
      new Cron(text, { paused: true, utcOffset: 0 });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a cron expression: ${(err as Error).message.replace(/^CronPattern: /, '')}` });
    }
  })
  .describe('rotate at these times (cron, UTC), e.g. "0 3 * * 1" for Mondays at 03:00; the first occurrence after the current version was made is the due time');

export const windowSchema = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7).default([...WEEKDAYS]).describe('weekdays (UTC) a due rotation may run on'),
    from: z.string().regex(HHMM, 'HH:MM, 24-hour, UTC').describe('start of the window (UTC)'),
    to: z.string().regex(HHMM, 'HH:MM, 24-hour, UTC').describe('end of the window (UTC); before `from` means it runs past midnight'),
  })
  .refine((w) => w.from !== w.to, 'from and to must differ (leave out `window` to rotate at any time)')
  .describe('only rotate inside this window, e.g. { days: [tue, wed], from: "02:00", to: "05:00" }: a due secret waits for it');

export type WindowInput = z.infer<typeof windowSchema>;

/** A window as plain data: weekday numbers (0 = Sunday) and minutes after midnight, UTC. */
export interface Window {
  days: number[];
  fromMin: number;
  toMin: number;
}

export function toWindow(w: WindowInput): Window {
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  return { days: [...new Set(w.days.map((d) => WEEKDAYS.indexOf(d)))].sort(), fromMin: minutes(w.from), toMin: minutes(w.to) };
}

/** What of a secret's config decides when it is due. */
export interface DuePolicy {
  intervalMs: number | undefined;
  schedule?: string;
  window?: Window;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Croner compiles a pattern once; the scheduler asks thousands of times a minute. A fixed
 * offset, not `timezone: 'UTC'`: the same times, without a time-zone lookup per step (about 70× faster). */
const crons = new Map<string, Cron>();
function cronOf(expr: string): Cron {
  let c = crons.get(expr);
  if (!c) {
    c = new Cron(expr, { paused: true, utcOffset: 0 });
    if (crons.size > 10_000) crons.clear();
    crons.set(expr, c);
  }
  return c;
}

/** The first occurrence of `expr` strictly after `after` (ms), or undefined when there is none. */
export function nextCron(expr: string, after: number): number | undefined {
  return cronOf(expr).nextRun(new Date(after))?.getTime();
}

/**
 * When the secret is due by time: 0 when it has no current version (never rotated: due
 * now), else `interval` or the next `schedule` occurrence after `currentSince`;
 * undefined when it has neither (rotated only on request).
 */
export function dueAt(policy: DuePolicy, currentSince: number | null | undefined): number | undefined {
  if (!currentSince) return 0;
  if (policy.schedule !== undefined) return nextCron(policy.schedule, currentSince);
  return policy.intervalMs === undefined ? undefined : currentSince + policy.intervalMs;
}

/** Whether `t` lies inside the window (always, without one). A window past midnight belongs to the day it opens. */
export function inWindow(window: Window | undefined, t: number): boolean {
  if (!window) return true;
  const d = new Date(t);
  const min = d.getUTCHours() * 60 + d.getUTCMinutes();
  const day = d.getUTCDay();
  if (window.fromMin < window.toMin) return window.days.includes(day) && min >= window.fromMin && min < window.toMin;
  // Past midnight: the evening part on a listed day, or the morning part after one.
  if (min >= window.fromMin) return window.days.includes(day);
  return min < window.toMin && window.days.includes((day + 6) % 7);
}

/** The first moment at or after `t` inside the window (`t` itself when inside or without one). */
export function nextWindowOpen(window: Window | undefined, t: number): number {
  if (!window || inWindow(window, t)) return t;
  const startOfDay = t - (t % DAY);
  for (let i = 0; i <= 8; i++) {
    const open = startOfDay + i * DAY + window.fromMin * MINUTE;
    if (open >= t && window.days.includes(new Date(open).getUTCDay())) return open;
  }
  return t; // unreachable: a window has at least one day
}

/**
 * When the rotation may start, asked at `now`: its due time (or now, when that has passed),
 * moved into the window. Undefined when it is never due by time.
 */
export function startAt(policy: DuePolicy, currentSince: number | null | undefined, now: number): number | undefined {
  const at = dueAt(policy, currentSince);
  return at === undefined ? undefined : nextWindowOpen(policy.window, Math.max(at, now));
}
