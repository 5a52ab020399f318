/**
 * What the daemon knows of the state between ticks: each secret's summary and the open
 * rotations. Re-read only when the state changed (StateStore.changeMarker: a commit by this
 * daemon or by any `rotor` command beside it), so a tick over 10,000 secrets reads nothing.
 */
import type { RotationRow, SecretSummary, StateStore } from '../state/types.js';

export class StateView {
  summaries = new Map<string, SecretSummary>();
  open: RotationRow[] = [];
  /** When the view was last read (ms). */
  readAt = 0;
  private marker: string | undefined;
  private reading: Promise<boolean> | undefined;

  constructor(private state: StateStore) {}

  /** After SIGHUP: read through the new engine's connection (the old one is closed next); the next refresh re-reads. */
  useState(state: StateStore): void {
    this.state = state;
    this.marker = undefined;
  }

  /** Re-reads when the state changed since the last read; true when it did. Concurrent calls share one read. */
  refresh(): Promise<boolean> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  /** A read that starts now, after any in flight (which may predate a commit the caller just saw end). */
  async refreshNow(): Promise<boolean> {
    await this.reading?.catch(() => {});
    return this.refresh();
  }

  private async read(): Promise<boolean> {
    const marker = await this.state.changeMarker();
    if (marker === this.marker) return false;
    const [summaries, open] = await Promise.all([this.state.summaries(), this.state.openRotations()]);
    this.summaries = summaries;
    this.open = open;
    this.marker = marker;
    this.readAt = Date.now();
    return true;
  }
}
