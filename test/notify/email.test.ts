import { afterEach, describe, expect, it } from 'vitest';
import { Notifications } from '../../src/notify/dispatcher.js';
import { transportOptions } from '../../src/notify/email.js';
import { FAST_RETRY, notification, notifyConfig, parseMail, recorder, startSmtpReceiver, type SmtpReceiver } from './receivers.js';

// A password with characters that must be URL-encoded in the smtp URL.
const USER = 'rotor@example.com';
const PASS = 'p@ss:w/rd %sm7p';

let smtp: SmtpReceiver;
let notifications: Notifications | undefined;
afterEach(async () => {
  await notifications?.close();
  await smtp.close();
});

function smtpUrl(port: number, pass = PASS): string {
  return `smtp://${encodeURIComponent(USER)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`;
}

describe('email notifier', () => {
  it('sends one mail, after AUTH with the credentials in the URL', async () => {
    smtp = await startSmtpReceiver(USER, PASS);
    const rec = recorder();
    const config = notifyConfig({ ops: { type: 'email', smtp: smtpUrl(smtp.port), from: 'rotor@example.com', to: ['ops@example.com', 'sec@example.com'], events: ['rotation.failed'] } });
    notifications = new Notifications(config, { redact: (s) => s, retry: FAST_RETRY, ...rec });
    notifications.emit(notification({ incident: 'INC-42', details: { priority: 'critical' } }));
    await notifications.drain(10_000);

    expect(rec.failed).toEqual([]);
    expect(rec.delivered).toHaveLength(1);
    expect(smtp.auths).toEqual([{ user: USER, pass: PASS }]);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.user).toBe(USER);
    expect(mail.from).toBe('rotor@example.com');
    expect(mail.to).toEqual(['ops@example.com', 'sec@example.com']);
    const { headers, body } = parseMail(mail.raw);
    expect(headers.get('subject')).toBe('[rotor] rotation.failed: rotation of database/primary failed at verify and was rolled back');
    expect(headers.get('from')).toBe('rotor@example.com');
    expect(headers.get('to')).toBe('ops@example.com, sec@example.com');
    expect(headers.get('x-rotor-event')).toBe('rotation.failed');
    expect(body).toContain('rotation of database/primary failed at verify and was rolled back');
    for (const line of ['Secret: database/primary', 'Rotation: rot-1', 'Step: verify', 'Error: login rejected by database', 'What to do: check that the consumer reloads its credentials', 'Incident: INC-42', 'priority: critical', 'At: 2026-01-02T03:04:05.000Z']) {
      expect(body).toContain(line);
    }
  });

  it('gives up at once on refused credentials, and says so without the password', async () => {
    smtp = await startSmtpReceiver(USER, PASS);
    const rec = recorder();
    const config = notifyConfig({ ops: { type: 'email', smtp: smtpUrl(smtp.port, 'wrong-password-123'), from: 'rotor@example.com', to: ['ops@example.com'], events: ['rotation.failed'] } });
    notifications = new Notifications(config, { redact: (s) => s, retry: FAST_RETRY, ...rec });
    notifications.emit(notification());
    await notifications.drain(10_000);
    expect(smtp.mails).toEqual([]);
    expect(smtp.auths).toHaveLength(1);
    expect(rec.failed.map((f) => [f.err.message, f.willRetry])).toEqual([['email notifier `ops`: SMTP 535 (EAUTH)', false]]);
    expect(JSON.stringify(rec.failed.map((f) => [f.err.message, f.err.stack]))).not.toContain('wrong-password-123');
  });

  it('subjects stay one line', async () => {
    smtp = await startSmtpReceiver(USER, PASS);
    const rec = recorder();
    const config = notifyConfig({ ops: { type: 'email', smtp: smtpUrl(smtp.port), from: 'rotor@example.com', to: ['ops@example.com'], events: ['secret.overdue'] } });
    notifications = new Notifications(config, { redact: (s) => s, ...rec });
    notifications.emit(notification({ event: 'secret.overdue', summary: 'overdue\r\nBcc: evil@example.com' }));
    await notifications.drain(10_000);
    expect(smtp.mails[0]!.to).toEqual(['ops@example.com']);
    expect(parseMail(smtp.mails[0]!.raw).headers.has('bcc')).toBe(false);
  });

  it('requires STARTTLS before sending a password to another machine', () => {
    expect(transportOptions('smtp://u:p%40ss@mail.example.com', 1000)).toMatchObject({ host: 'mail.example.com', port: 587, secure: false, requireTLS: true, auth: { user: 'u', pass: 'p@ss' } });
    expect(transportOptions('smtps://u:p@mail.example.com', 1000)).toMatchObject({ port: 465, secure: true, requireTLS: false });
    expect(transportOptions('smtp://mail.example.com:25', 1000)).toMatchObject({ port: 25, auth: undefined, requireTLS: false });
    expect(transportOptions('smtp://u:p@[::1]:2525', 1000)).toMatchObject({ host: '::1', requireTLS: false });
    expect(() => notifyConfig({ e: { type: 'email', smtp: 'http://mail.example.com', from: 'a@example.com', to: ['b@example.com'], events: ['rotation.failed'] } })).toThrow();
    expect(() => notifyConfig({ e: { type: 'email', smtp: 'smtp://mail.example.com', from: 'a@example.com', to: [], events: ['rotation.failed'] } })).toThrow();
  });
});
