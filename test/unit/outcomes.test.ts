/** Outcome → exit code and outcome → HTTP status: the two edges (app/outcomes.ts). */
import { describe, expect, it } from 'vitest';
import {
  errorBody, exitCodeFor, exitCodeForAudit, exitCodeForPlan, exitCodeForRollback, exitCodeForSealLegacy, exitCodeOf, exitCodeOfError,
  httpStatusFor, httpStatusForAudit, httpStatusForPlan, httpStatusForSealLegacy, httpStatusOf, type Outcome,
} from '../../src/app/outcomes.js';
import type { OutcomeStatus, RotationOutcome } from '../../src/engine/context.js';
import { ConfigError, IntegrityError, MasterKeyError, NotFoundError, TargetUnreachableError, UsageError } from '../../src/errors.js';

const o = (status: OutcomeStatus, extra: Partial<RotationOutcome> = {}): RotationOutcome => ({ secretId: `s/${status}`, status, ...extra });

describe('exit codes', () => {
  it('maps error classes to the SPEC codes', () => {
    expect(exitCodeOf('usage')).toBe(2);
    expect(exitCodeOf('rolled-back')).toBe(1);
    expect(exitCodeOf('needs-person')).toBe(3);
    expect(exitCodeOfError(new UsageError('x'))).toBe(2);
    expect(exitCodeOfError(new NotFoundError('x'))).toBe(2);
    expect(exitCodeOfError(new TargetUnreachableError('x'))).toBe(1);
    expect(exitCodeOfError(new IntegrityError('f', 'x'))).toBe(3);
    expect(exitCodeOfError(new Error('a bug'))).toBe(3);
  });

  it.each([
    [[], 0], [['succeeded', 'grace'], 0],
    [['busy'], 2], [['skipped'], 2], [['refused'], 2],
    [['rolled-back'], 1], [['not-started', 'busy'], 1],
    [['failed', 'rolled-back'], 3], [['interrupted'], 3],
  ] as [OutcomeStatus[], number][])('a batch of %j exits %i', (statuses, code) => {
    expect(exitCodeFor(statuses.map((s) => o(s)))).toBe(code);
  });

  it('a rollback someone asked for is not a failure', () => {
    expect(exitCodeFor([o('rolled-back', { requested: true })])).toBe(0);
    expect(exitCodeForRollback(o('rolled-back', { requested: true }))).toBe(0);
    expect(exitCodeForRollback(o('busy'))).toBe(2);
    expect(exitCodeForRollback(o('failed'))).toBe(3);
  });
});

describe('results that are not errors', () => {
  const plan = (...outcomes: (Outcome | null)[]) => outcomes.map((outcome) => ({ problem: outcome && { outcome } }));

  it.each([
    [plan(), 0, 200], [plan(null, null), 0, 200],
    [plan(null, 'rolled-back'), 1, 502], [plan('needs-person'), 1, 502],
    [plan('rolled-back', 'usage', null), 2, 400], [plan('usage'), 2, 400],
  ])('plan %j exits %i, HTTP %i', (plans, code, status) => {
    expect(exitCodeForPlan(plans)).toBe(code);
    expect(httpStatusForPlan(plans)).toBe(status);
  });

  it('a broken audit chain or checkpoint needs a person', () => {
    expect(exitCodeForAudit({ ok: true })).toBe(0);
    expect(httpStatusForAudit({ ok: true })).toBe(200);
    expect(exitCodeForAudit({ ok: false })).toBe(3);
    expect(httpStatusForAudit({ ok: false })).toBe(500);
  });

  it('plaintext copies left by --seal-legacy exit 1', () => {
    expect(exitCodeForSealLegacy({ left: [] })).toBe(0);
    expect(httpStatusForSealLegacy({ left: [] })).toBe(200);
    expect(exitCodeForSealLegacy({ left: ['/x/.rotor/backups/s/f'] })).toBe(1);
    expect(httpStatusForSealLegacy({ left: ['/x/.rotor/backups/s/f'] })).toBe(500);
  });
});

describe('HTTP statuses', () => {
  it('maps errors', () => {
    expect(httpStatusOf(new UsageError('x'))).toBe(400);
    expect(httpStatusOf(new NotFoundError('x'))).toBe(404);
    expect(httpStatusOf(new ConfigError([{ file: 'rotor.yaml', path: 'x', message: 'bad' }]))).toBe(500);
    expect(httpStatusOf(new MasterKeyError('x', 'y'))).toBe(500);
    expect(httpStatusOf(new TargetUnreachableError('x'))).toBe(502);
    expect(httpStatusOf(new IntegrityError('f', 'x'))).toBe(500);
    expect(httpStatusOf(new Error('a bug'))).toBe(500);
  });

  it.each([
    [[], 200], [['succeeded', 'grace'], 200],
    [['refused'], 400], [['busy'], 409], [['skipped', 'refused'], 409],
    [['rolled-back'], 502], [['not-started'], 502],
    [['interrupted', 'rolled-back'], 503], [['failed', 'interrupted'], 500],
  ] as [OutcomeStatus[], number][])('a batch of %j is %i', (statuses, status) => {
    expect(httpStatusFor(statuses.map((s) => o(s)))).toBe(status);
  });

  it('agrees with the exit code on what succeeded', () => {
    for (const s of ['succeeded', 'grace', 'rolled-back', 'failed', 'busy', 'skipped', 'refused', 'not-started', 'interrupted'] as OutcomeStatus[]) {
      expect(exitCodeFor([o(s)]) === 0).toBe(httpStatusFor([o(s)]) === 200);
    }
    expect(httpStatusFor([o('rolled-back', { requested: true })])).toBe(200);
  });

  it('error bodies carry {error, kind, hint} and nothing of an unknown error', () => {
    expect(errorBody(new NotFoundError('unknown secret: a', 'see status'))).toEqual({ error: 'unknown secret: a', kind: 'NotFoundError', hint: 'see status' });
    expect(errorBody(new Error('connection string postgres://u:p@h'))).toEqual({ error: 'internal error', kind: 'InternalError', hint: 'see the daemon log' });
  });
});
