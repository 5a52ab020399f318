/**
 * Checks shared by the daemon tests: every stdout line of `rotor serve` is a JSON log line
 * (level, time, msg), and no secret value appears anywhere in what it wrote.
 */
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import type { ServeProcess } from '../helpers/daemon.js';
import type { Sandbox } from '../helpers/sandbox.js';

interface HistoryJson {
  versions: { version: number; stage: string }[];
}

/** Every stored value of every secret (each version, and each field of a structured one). */
export async function storedSecretValues(sb: Sandbox, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    const h = await sb.json<HistoryJson>(['history', id]);
    for (const v of h.versions) {
      const raw = (await sb.ok(['get', id, '--version', String(v.version)])).stdout.trim();
      out.push(raw);
      try {
        const parsed = JSON.parse(raw) as unknown;
        if (parsed && typeof parsed === 'object') {
          const pw = (parsed as { password?: unknown }).password;
          if (typeof pw === 'string') out.push(pw);
        }
      } catch {
        // a plain string value
      }
    }
  }
  return out.filter((v) => v.length >= 8);
}

/** stdout is JSON lines with level, time and msg; no value is in stdout or stderr. */
export function expectCleanLogs(d: ServeProcess, values: string[]): void {
  const stdout = d.lines;
  expect(stdout.length).toBeGreaterThan(0);
  for (const l of stdout) {
    expect(l.level, `not a JSON log line: ${l.msg}`).not.toBe('raw');
    expect(typeof l.level).toBe('string');
    expect(typeof l.time).toBe('string');
    expect(Number.isNaN(Date.parse(String(l.time)))).toBe(false);
    expect(typeof l.msg).toBe('string');
  }
  const out = d.output();
  for (const v of values) expect(out.includes(v), 'a secret value in the daemon output').toBe(false);
}

/** Polls a condition outside the daemon (a file a reload command writes) without a fixed sleep. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const exists = (p: string) => () => existsSync(p);

/** "HH:MM" of now (UTC) shifted by `minutes`, wrapping at midnight. */
export function hhmm(minutes: number, now = Date.now()): string {
  const d = new Date(now);
  const m = (((d.getUTCHours() * 60 + d.getUTCMinutes() + minutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export const ms = (iso: unknown) => Date.parse(String(iso));
