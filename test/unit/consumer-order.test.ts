/**
 * Who reloads with whom: the one consumer order of a config, and the groups of a batch
 * that meet in one reload round (same wave of `after`, linked through shared consumers).
 */
import { describe, expect, it } from 'vitest';
import { consumerOrder } from '../../src/consumers/order.js';
import { meetingGroups } from '../../src/engine/propagation.js';
import type { SecretConfig } from '../../src/config/schema.js';

const secret = (id: string, consumers: string[], after: string[] = []) => ({ id, consumers, after }) as unknown as SecretConfig;

describe('consumerOrder', () => {
  it('puts a consumer after every consumer listed before it, keeping declaration order otherwise', () => {
    const found = consumerOrder(['worker', 'api', 'web', 'cron'], [
      { id: 'a', consumers: ['web', 'api'] },
      { id: 'b', consumers: ['api', 'worker'] },
    ]);
    expect(found).toEqual({ ok: true, order: ['web', 'api', 'worker', 'cron'] });
  });

  it('refuses lists that contradict each other, naming the consumers and the secrets', () => {
    expect(consumerOrder(['x', 'y'], [{ id: 'a', consumers: ['x', 'y'] }, { id: 'b', consumers: ['y', 'x'] }]))
      .toEqual({ ok: false, consumers: ['x', 'y'], secrets: ['a', 'b'] });
    // A longer cycle through three secrets.
    expect(consumerOrder(['x', 'y', 'z', 'free'], [
      { id: 'a', consumers: ['x', 'y'] }, { id: 'b', consumers: ['y', 'z'] }, { id: 'c', consumers: ['z', 'x'] },
    ])).toEqual({ ok: false, consumers: ['x', 'y', 'z'], secrets: ['a', 'b', 'c'] });
  });
});

describe('meetingGroups', () => {
  it('groups secrets of one wave that share consumers, directly or through another secret', () => {
    const groups = meetingGroups([
      secret('a', ['api']), secret('b', ['api', 'web']), secret('c', ['web']), secret('d', ['cron']), secret('e', []),
    ]);
    expect(groups).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('never puts a secret in a round with one it rotates after, even through a chain', () => {
    const groups = meetingGroups([
      secret('a', ['api']), secret('x', ['other']), secret('b', ['api'], ['x']), secret('c', ['api'], ['b']), secret('d', ['api']),
    ]);
    expect(groups).toEqual([['a', 'd'], ['x'], ['b'], ['c']]);
  });
});
