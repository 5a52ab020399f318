/** The daemon starts, rotates on schedule, serves its open endpoints and stops on SIGTERM with exit 0. */
import { afterEach, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/daemon.js';
import { Sandbox } from '../helpers/sandbox.js';

let d: ServeProcess | undefined;
afterEach(async () => {
  d?.signal('SIGKILL');
  d = undefined;
});

describe('rotor serve', () => {
  it('rotates a 3s secret on schedule and retires it after grace, several times, then stops cleanly', async () => {
    const sb = new Sandbox('version: 1\nserve: { tick: 200ms }\nsecrets:\n  - { id: app/key, type: random, interval: 3s, grace: 1s }\n');
    await sb.ok(['init']);
    d = await startServe(sb);
    for (const v of [1, 2, 3]) {
      await d.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'app/key' && l.version === v && l.status === 'grace', 20_000);
      await d.waitFor((l) => l.event === 'retire.finished' && l.secret === 'app/key' && l.version === v && l.status === 'succeeded', 20_000);
    }
    const health = await d.fetch('/healthz');
    expect(health.status).toBe(200);
    const metrics = await (await d.fetch('/metrics')).text();
    expect(metrics).toMatch(/^rotor_secret_age_seconds\{secret="app\/key",type="random",priority="medium"\} \d/m);
    expect(metrics).toMatch(/^rotor_rotations_total\{type="random",trigger="schedule",result="grace"\} [3-9]/m);
    await d.stop();
    const history = await sb.json<{ versions: { version: number; stage: string }[] }>(['history', 'app/key']);
    expect(history.versions.length).toBeGreaterThanOrEqual(3);
  });

  it('a second serve on the same state is refused with exit 2 and a clear message', async () => {
    const sb = new Sandbox('version: 1\nsecrets: []\n');
    await sb.ok(['init']);
    d = await startServe(sb);
    const second = await sb.run(['serve', '--listen', '127.0.0.1:0']);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/another rotor serve \(pid \d+ on .*\) already runs on this state/);
    await d.stop();
  });
});
