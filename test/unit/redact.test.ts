import { describe, expect, it } from 'vitest';
import { newRedactor, Redactor } from '../../src/engine/redact.js';

describe('Redactor', () => {
  it('stays bounded: past its cap the oldest values are dropped, pinned ones never', () => {
    const r = new Redactor({ cap: 100 });
    r.pin('admin-password-pinned');
    for (let i = 0; i < 10_000; i++) r.register(`value-number-${i}-xyz`);
    expect(r.size).toBe(102); // each string and its base64 form
    expect(r.redact('old value-number-0-xyz')).toBe('old value-number-0-xyz');
    expect(r.redact('new value-number-9999-xyz')).toBe('new [REDACTED]');
    expect(r.redact('admin admin-password-pinned')).toBe('admin [REDACTED]');
  });

  it('keeps a value registered again (read again) among the young', () => {
    const r = new Redactor({ cap: 6 }); // three values, two forms each
    r.register('first-secret');
    r.register('second-secret');
    r.register('third-secret');
    r.register('first-secret');
    r.register('fourth-secret');
    expect(r.redact('first-secret second-secret')).toBe('[REDACTED] second-secret');
  });

  it('cuts the longest value whole when one value contains another', () => {
    const r = new Redactor();
    r.register('abcdef');
    r.register('abcdef-and-more');
    expect(r.redact('x abcdef-and-more y abcdef')).toBe('x [REDACTED] y [REDACTED]');
  });

  it('redacts nested values and their JSON-escaped form, not names', () => {
    const r = new Redactor();
    r.register({ username: 'app_user', password: 'pa"ss\\word', keys: [{ kid: 'key-id-1', k: 'secret-key-material' }] });
    expect(r.redact('app_user pa"ss\\word key-id-1 secret-key-material')).toBe('app_user [REDACTED] key-id-1 [REDACTED]');
    expect(r.redact(JSON.stringify({ p: 'pa"ss\\word' }))).toBe('{"p":"[REDACTED]"}');
  });

  it('redacts the base64 form a Kubernetes Secret\'s data holds', () => {
    const r = new Redactor();
    r.register({ password: 'k8s-delivered-pw-42' });
    const b64 = Buffer.from('k8s-delivered-pw-42').toString('base64');
    expect(r.redact(`Secret "api" is invalid: data[DB_PASSWORD]: ${b64}`)).toBe('Secret "api" is invalid: data[DB_PASSWORD]: [REDACTED]');
  });

  it('pins the admin passwords of targets', () => {
    const r = newRedactor({ targets: { db: { type: 'postgres', url: 'postgres://admin:s3cret-admin@h/db' } } } as never);
    expect(r.redact('could not connect with s3cret-admin')).toBe('could not connect with [REDACTED]');
  });

  it('redacts a long text in time that follows its length, not the number of values', () => {
    const r = new Redactor({ cap: 20_000 });
    for (let i = 0; i < 20_000; i++) r.register(`known-${i.toString(36).padStart(8, '0')}-value`);
    const text = 'x'.repeat(50_000);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) r.redact(text);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});
