/**
 * The human-readable form of a notification, shared by the kinds people read (Slack,
 * email): a title line and labelled fields. Only the notification's own fields appear,
 * and those are already redacted.
 */
import type { Notification } from './types.js';

/** "[rotor] rotation.failed: rotation of database/primary failed at verify" */
export function titleOf(n: Notification, max = 200): string {
  return truncate(`[rotor] ${n.event}: ${oneLine(n.summary)}`, max);
}

/** Each present field as [label, text], in the order a person needs them. */
export function fieldsOf(n: Notification): [string, string][] {
  const fields: [string, string | null][] = [
    ['Secret', n.secretId],
    ['Rotation', n.rotationId],
    ['Step', n.step],
    ['Error', n.error],
    ['What to do', n.hint],
    ['Incident', n.incident],
  ];
  for (const [key, value] of Object.entries(n.details ?? {})) fields.push([key, value === null ? null : String(value)]);
  fields.push(['At', new Date(n.at).toISOString()]);
  return fields.filter((f): f is [string, string] => f[1] !== null && f[1] !== '');
}

/** The notification as plain text: summary, then one `Label: text` line per field. */
export function textOf(n: Notification): string {
  return [n.summary, '', ...fieldsOf(n).map(([label, text]) => `${label}: ${text}`)].join('\n');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Subjects and titles are one line: a newline in a subject would start a new header. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
