import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { nameSchema } from '../../src/config/common.js';
import { notifierSchemas, notifierTypes, type NotifierConfig } from '../../src/notify/registry.js';

// The two ways config/schema.ts may hold `notify:`; both must parse the same.
const asUnion = z.record(nameSchema, z.union(notifierSchemas)).default({});
const asDiscriminated = z.record(nameSchema, z.discriminatedUnion('type', notifierSchemas)).default({});

const raw = {
  team: { type: 'slack', webhook: 'https://hooks.slack.com/services/T/B/x', events: ['rotation.failed'] },
  oncall: { type: 'pagerduty', routingKey: 'R0123456789abcdefghijABCDEFGHIJ0', events: ['rotation.failed', 'rotation.succeeded'] },
  ops: { type: 'email', smtp: 'smtps://u:p@mail.example.com', from: 'rotor@example.com', to: ['ops@example.com'], events: ['secret.due-soon'] },
  audit: { type: 'webhook', url: 'https://example.com/rotor', secret: '0123456789abcdef', events: ['emergency.started'] },
};

describe('notify config', () => {
  it('parses every kind through either union', () => {
    const parsed: Record<string, NotifierConfig> = asUnion.parse(raw);
    expect(asDiscriminated.parse(raw)).toEqual(parsed);
    expect(Object.values(parsed).map((c) => c.type)).toEqual(['slack', 'pagerduty', 'email', 'webhook']);
    expect(notifierTypes).toEqual(['slack', 'pagerduty', 'email', 'webhook']);
    expect(asUnion.parse(undefined)).toEqual({});
  });

  it('refuses an unknown type, an unknown event, an unknown field and a bad name', () => {
    expect(asDiscriminated.safeParse({ x: { type: 'teams', events: ['rotation.failed'] } }).success).toBe(false);
    expect(asDiscriminated.safeParse({ x: { ...raw.team, events: ['rotation.exploded'] } }).success).toBe(false);
    expect(asDiscriminated.safeParse({ x: { ...raw.audit, retries: 3 } }).success).toBe(false);
    expect(asDiscriminated.safeParse({ 'bad name': raw.team }).success).toBe(false);
  });
});
