/**
 * `type: email`: one mail per notification over SMTP (nodemailer), subject the
 * notification's line, body its fields as text. `smtp` is a URL, `smtps://` for TLS from
 * the first byte, `smtp://` for STARTTLS when the server offers it; credentials go in the
 * URL (`smtp://user:pass@host:587`). When there are credentials and the server is not on
 * this machine, STARTTLS is required: a password never crosses a network in clear.
 * The URL holds the password, so it appears in no message.
 */
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { z } from 'zod';
import { eventsSchema, isLoopbackHost } from './config.js';
import { NotifyError, causeCode, notifierLabel } from './errors.js';
import { textOf, titleOf } from './render.js';
import type { NotifierDefinition } from './types.js';

export const emailNotifierSchema = z.strictObject({
  type: z.literal('email'),
  smtp: z
    .url({ protocol: /^smtps?$/ })
    .max(2048)
    .describe('the SMTP server as smtp://[user:pass@]host[:port] (STARTTLS) or smtps://… (TLS); write the password as ${VAR}'),
  from: z.email().describe('the sender address'),
  to: z.array(z.email()).min(1).max(50).describe('who receives the mail'),
  events: eventsSchema,
});
export type EmailNotifierConfig = z.infer<typeof emailNotifierSchema>;

/** nodemailer's options for `smtp`, with the timeout on every phase of the conversation. */
export function transportOptions(smtp: string, timeoutMs: number): SMTPTransport.Options {
  const url = new URL(smtp);
  const secure = url.protocol === 'smtps:';
  const user = decodeURIComponent(url.username);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1'); // [::1] → ::1
  return {
    host,
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    auth: user === '' ? undefined : { user, pass: decodeURIComponent(url.password) },
    requireTLS: user !== '' && !secure && !isLoopbackHost(url.hostname),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
  };
}

// nodemailer's codes for a failure that repeating will not fix (bad credentials, a refused
// address, a certificate it does not trust); others (ECONNECTION, ETIMEDOUT…) may pass.
const PERMANENT_CODES = new Set(['EAUTH', 'EENVELOPE', 'EMESSAGE', 'ECONFIG', 'ETLS']);

/** An SMTP failure as a NotifyError: by reply code when the server gave one (4xx passes, 5xx does not). */
export function smtpError(name: string, label: string, err: unknown): NotifyError {
  const code = causeCode(err);
  const reply = typeof err === 'object' && err !== null && 'responseCode' in err && typeof err.responseCode === 'number' ? err.responseCode : undefined;
  if (reply !== undefined) {
    const retryable = reply < 500;
    return new NotifyError(name, `${label}: SMTP ${reply} (${code})`, {
      retryable,
      hint: code === 'EAUTH' ? 'check the SMTP user and password' : 'check the addresses and the SMTP server',
    });
  }
  const what = code === 'TimeoutError' || code === 'ETIMEDOUT' ? 'no answer in time' : `sending failed (${code})`;
  return new NotifyError(name, `${label}: ${what}`, { retryable: !PERMANENT_CODES.has(code), hint: 'check that the SMTP server is reachable and its settings' });
}

/** Resolves with `work`, or rejects with the signal's reason once it aborts. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export const emailNotifier = {
  schema: emailNotifierSchema,
  create({ name, config, timeoutMs }) {
    const label = notifierLabel('email', name);
    // nodemailer is loaded on the first mail, not with the config: every command loads the
    // config, and nodemailer alone would double a command's start-up.
    let transport: Promise<Transporter<SMTPTransport.SentMessageInfo>> | undefined;
    const transportOf = () => (transport ??= import('nodemailer').then((m) => m.default.createTransport(transportOptions(config.smtp, timeoutMs))));
    return {
      async send({ notification, signal }) {
        try {
          // sendMail takes no signal; its own timeouts end it, and abortable() stops the wait on close.
          const smtp = await transportOf();
          await abortable(
            smtp.sendMail({
              from: config.from,
              to: config.to,
              subject: titleOf(notification),
              text: textOf(notification),
              headers: { 'X-Rotor-Event': notification.event },
            }),
            signal,
          );
        } catch (err) {
          throw smtpError(name, label, err);
        }
        return 'sent';
      },
      async close() {
        (await transport)?.close();
      },
    };
  },
} satisfies NotifierDefinition<EmailNotifierConfig>;
