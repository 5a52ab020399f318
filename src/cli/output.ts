/** Terminal output: tables, live progress and outcomes (their exit codes are app/outcomes.ts's). */
import type { EngineEvent, RotationOutcome } from '../engine/context.js';

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

const MARK: Record<RotationOutcome['status'], string> = {
  succeeded: 'ok', grace: 'ok', 'rolled-back': 'ROLLED BACK', failed: 'FAILED', busy: 'BUSY', skipped: 'SKIPPED',
  refused: 'REFUSED', 'not-started': 'NOT STARTED', interrupted: 'INTERRUPTED',
};

export function describeOutcome(o: RotationOutcome): string {
  const what =
    o.status === 'grace' ? `v${o.version} current; previous valid during grace` :
    o.status === 'succeeded' ? (o.version === undefined ? 'done' : o.version === 1 ? 'v1 current' : `v${o.version} current; previous retired`) :
    o.requested ? `rolled back on request: v${o.version} withdrawn, the previous value is current again` :
    `${o.step ? `at ${o.step}: ` : ''}${o.error ?? ''}`;
  const warnings = (o.warnings ?? []).map((w) => `\n            ! ${w}`).join('');
  return `${MARK[o.status].padEnd(11)} ${o.secretId}  ${what}${warnings}${o.hint ? `\n            → ${o.hint}` : ''}`;
}

/**
 * A one-line live display on a terminal (stderr), redrawn at most ten times a second;
 * silent when stderr is not a terminal so logs stay clean.
 */
export class Progress {
  private finished = 0;
  private failed = 0;
  private lastDraw = 0;
  private readonly active = new Map<string, string>();
  private readonly enabled: boolean;

  constructor(private readonly total: number, private readonly verb: string) {
    this.enabled = Boolean(process.stderr.isTTY) && total > 0;
  }

  onEvent = (e: EngineEvent): void => {
    if (e.kind === 'step') this.active.set(e.secretId, `${e.step}`);
    if (e.kind === 'rollback') this.active.set(e.secretId, 'rollback');
    if (e.kind === 'finished') {
      this.active.delete(e.secretId);
      this.finished++;
      if (!['succeeded', 'grace'].includes(e.outcome.status)) this.failed++;
    }
    this.draw(false);
  };

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 24;
    const filled = Math.round((this.finished / this.total) * width);
    const [id, step] = this.active.entries().next().value ?? ['', ''];
    const line = `${this.verb} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.finished}/${this.total}` +
      `${this.failed ? `  ${this.failed} not ok` : ''}${id ? `  ${id}: ${step}` : ''}`;
    process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
  }

  end(): void {
    if (!this.enabled) return;
    this.draw(true);
    process.stderr.write('\n');
  }
}

/** Prints outcomes: every one for small runs, only the ones that need attention for big ones. */
export function printOutcomes(outcomes: RotationOutcome[], elapsedMs: number): void {
  const notOk = outcomes.filter((o) => (o.status !== 'succeeded' && o.status !== 'grace') || o.warnings?.length);
  const shown = outcomes.length <= 50 ? outcomes : notOk;
  const sorted = [...shown].sort((a, b) => (a.secretId < b.secretId ? -1 : 1));
  for (const o of sorted) process.stdout.write(`${describeOutcome(o)}\n`);
  const count = (s: RotationOutcome['status']) => outcomes.filter((o) => o.status === s).length;
  const parts = [
    `${count('succeeded') + count('grace')} ok`,
    count('grace') ? `${count('grace')} in grace` : '',
    count('rolled-back') ? `${count('rolled-back')} rolled back` : '',
    count('failed') ? `${count('failed')} failed` : '',
    count('busy') ? `${count('busy')} busy` : '',
    count('skipped') ? `${count('skipped')} skipped` : '',
    count('interrupted') ? `${count('interrupted')} interrupted` : '',
  ].filter(Boolean);
  process.stdout.write(`${outcomes.length} secret${outcomes.length === 1 ? '' : 's'}: ${parts.join(', ')} in ${(elapsedMs / 1000).toFixed(2)}s\n`);
  if (count('interrupted')) process.stdout.write('interrupted; run `rotor resume` to finish what was under way\n');
}
