// The pure rules of responses: retry backoff, windows, silence matching and
// the action plan (which runs an event owes here, and why one does not run).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffMs, nextAttempt, type RetryPolicy } from '../services/eventd/actions/retry.js';
import { isEventdError } from '../services/eventd/errors.js';
import { planActions } from '../services/eventd/responses/plan.js';
import { runsHere } from '../services/eventd/responses/placement.js';
import { matchingSilence, silenceMatches, silenceState } from '../services/eventd/responses/silence-match.js';
import { compileWindow, inWindow } from '../services/eventd/responses/window.js';
import type { EventRecord, NamedResponse, Silence } from '../services/eventd/types.js';

const policy: RetryPolicy = { maxAttempts: 5, maxAgeMs: 60_000, initialBackoffMs: 1000, maxBackoffMs: 8000 };

describe('retry backoff', () => {
  test('doubles from the initial wait, is capped, and its jitter stays within [half, whole]', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 9].map((n) => backoffMs(n, policy, () => 1)), [1000, 2000, 4000, 8000, 8000, 8000]);
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(n, policy, () => 0)), [500, 1000, 2000, 4000]);
    assert.equal(backoffMs(3, policy, () => 0.5), 3000);
  });

  test('gives up at maxAttempts, and when the next attempt would pass maxAge', () => {
    assert.deepEqual(nextAttempt(1, 0, 100, policy, () => 1), { retry: true, at: 1100 });
    const spent = nextAttempt(5, 0, 100, policy, () => 1);
    assert.equal(spent.retry, false);
    assert.match(spent.retry ? '' : spent.detail, /after 5 attempts \(maxAttempts 5\)/);
    const old = nextAttempt(2, 0, 58_001, policy, () => 1);
    assert.equal(old.retry, false);
    assert.match(old.retry ? '' : old.detail, /maxAge/);
  });
});

describe('response windows', () => {
  const error = (window: Parameters<typeof compileWindow>[0]) => {
    try {
      compileWindow(window);
    } catch (err) {
      assert.ok(isEventdError(err));
      return { code: err.code, field: err.details?.field };
    }
    return undefined;
  };

  test('bad windows are refused naming the field', () => {
    assert.deepEqual(error({ start: '25:00' }), { code: 'EVENTD_ERR_BAD_WINDOW', field: 'window.start' });
    assert.deepEqual(error({ end: '18:60' }), { code: 'EVENTD_ERR_BAD_WINDOW', field: 'window.end' });
    assert.deepEqual(error({ start: '8:00' }), { code: 'EVENTD_ERR_BAD_WINDOW', field: 'window.start' });
    assert.deepEqual(error({ days: 'Mon-Fry' }), { code: 'EVENTD_ERR_BAD_WINDOW', field: 'window.days' });
    assert.deepEqual(error({ timeZone: 'Mars/Olympus' }), { code: 'EVENTD_ERR_BAD_WINDOW', field: 'window.timeZone' });
    assert.deepEqual(error({ start: '10:00', end: '10:00' }), { code: 'EVENTD_ERR_BAD_WINDOW', field: 'window.end' });
    assert.equal(error({ days: 'Mon-Fri', start: '08:00', end: '24:00' }), undefined);
  });

  test('office hours in a time zone: days, start inclusive, end exclusive', () => {
    const office = compileWindow({ days: 'Mon-Fri', start: '08:00', end: '18:00', timeZone: 'Europe/Paris' });
    // 2024-01-08 is a Monday; Paris is UTC+1 in January.
    assert.equal(inWindow(office, new Date('2024-01-08T06:59:00Z')), false);
    assert.equal(inWindow(office, new Date('2024-01-08T07:00:00Z')), true);
    assert.equal(inWindow(office, new Date('2024-01-08T16:59:00Z')), true);
    assert.equal(inWindow(office, new Date('2024-01-08T17:00:00Z')), false);
    assert.equal(inWindow(office, new Date('2024-01-13T10:00:00Z')), false); // Saturday
    // Summer time: UTC+2.
    assert.equal(inWindow(office, new Date('2024-07-08T06:30:00Z')), true);
  });

  test('a window past midnight belongs to the day it starts on; day ranges may wrap', () => {
    const nights = compileWindow({ days: 'Fri', start: '22:00', end: '06:00' });
    assert.equal(inWindow(nights, new Date('2024-01-12T23:00:00Z')), true); // Friday night
    assert.equal(inWindow(nights, new Date('2024-01-13T05:59:00Z')), true); // Saturday morning, Friday's night
    assert.equal(inWindow(nights, new Date('2024-01-13T06:00:00Z')), false);
    assert.equal(inWindow(nights, new Date('2024-01-12T05:00:00Z')), false); // Friday morning is Thursday's night
    const weekend = compileWindow({ days: 'Sat-Sun' });
    const wrap = compileWindow({ days: 'Fri-Mon' });
    assert.deepEqual([...weekend.days].sort(), [0, 6]);
    assert.deepEqual([...wrap.days].sort(), [0, 1, 5, 6]);
  });
});

function silence(matchers: Silence['matchers'], startsAt = '2024-01-01T00:00:00Z', endsAt = '2024-01-01T02:00:00Z', id = 's1'): Silence {
  return { id, matchers, startsAt, endsAt, comment: 'disk swap', createdBy: 'ops', createdAt: startsAt, node: 'n1' };
}

const fsEvent = { subscription: 'abc123', subscriptionName: 'disk-full', class: 'FileSystem', node: 'n2', resource: '/dev/sda2' };

describe('silences', () => {
  const at = (iso: string) => Date.parse(iso);

  test('match on every matcher given; subscription by name or id', () => {
    assert.equal(silenceMatches(silence({ class: 'FileSystem', node: 'n2' }), fsEvent, at('2024-01-01T01:00:00Z')), true);
    assert.equal(silenceMatches(silence({ subscription: 'disk-full' }), fsEvent, at('2024-01-01T01:00:00Z')), true);
    assert.equal(silenceMatches(silence({ subscription: 'abc123', resource: '/dev/sda2' }), fsEvent, at('2024-01-01T01:00:00Z')), true);
  });

  test('no match when one matcher differs, or with no matcher at all', () => {
    assert.equal(silenceMatches(silence({ class: 'FileSystem', node: 'n3' }), fsEvent, at('2024-01-01T01:00:00Z')), false);
    assert.equal(silenceMatches(silence({ class: 'PagingSpace' }), fsEvent, at('2024-01-01T01:00:00Z')), false);
    assert.equal(silenceMatches(silence({}), fsEvent, at('2024-01-01T01:00:00Z')), false);
  });

  test('expiry: pending before its start, active until its end (exclusive), then expired', () => {
    const s = silence({ node: 'n2' });
    assert.equal(silenceState(s, at('2023-12-31T23:59:59Z')), 'pending');
    assert.equal(silenceMatches(s, fsEvent, at('2023-12-31T23:59:59Z')), false);
    assert.equal(silenceState(s, at('2024-01-01T01:59:59Z')), 'active');
    assert.equal(silenceState(s, at('2024-01-01T02:00:00Z')), 'expired');
    assert.equal(silenceMatches(s, fsEvent, at('2024-01-01T02:00:00Z')), false);
    const later = silence({ node: 'n2' }, '2024-01-01T00:00:00Z', '2024-01-01T05:00:00Z', 's2');
    assert.equal(matchingSilence([s, later], fsEvent, at('2024-01-01T03:00:00Z'))?.id, 's2');
  });
});

function event(overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    id: 'n2:7', origin: 'n2', seq: 7, hlc: 'h', type: 'event', subscription: 'abc123', subscriptionName: 'disk-full',
    class: 'FileSystem', resource: '/dev/sda2', node: 'n2', expr: 'percentUsed > 90', attrs: { percentUsed: 95 },
    time: '2024-01-08T10:00:00.000Z', ...overrides,
  };
}

const pageOncall: NamedResponse = {
  name: 'page-oncall', node: 'n1', createdAt: '2024-01-01T00:00:00Z', expectedExit: 3,
  actions: [
    { webhook: { url: 'http://127.0.0.1:9000/hook', method: 'POST' }, timeout: '10s', on: ['event', 'rearm'] },
    { run: '/usr/local/bin/page', timeout: '10s', on: ['event'] },
  ],
};
const officeHours: NamedResponse = {
  name: 'office', node: 'n1', createdAt: '2024-01-01T00:00:00Z', window: { days: 'Mon-Fri', start: '08:00', end: '18:00' },
  actions: [{ email: { to: ['ops@example.com'] }, timeout: '10s', on: ['event'] }],
};
const responses = new Map([[pageOncall.name, pageOncall], [officeHours.name, officeHours]]);
const owner = {
  id: 'abc123', scope: 'local' as const, order: 'fifo' as const, node: 'n1',
  actions: [{ run: '/usr/local/bin/log', timeout: '5s', on: ['event' as const] }],
  responses: ['page-oncall', 'office', 'gone'],
};

describe('the action plan', () => {
  const plan = (e: EventRecord, mute?: ReturnType<NonNullable<Parameters<typeof planActions>[2]['mute']>>, node = 'n1') =>
    planActions(e, owner, { node, response: (name) => responses.get(name), mute: () => mute });

  test('inline actions, then each response in order, one flat index; a response this node lacks owes nothing; expectedExit reaches run actions', () => {
    const drafts = plan(event());
    assert.deepEqual(drafts.map((d) => [d.actionIndex, d.response, d.skip]), [[0, null, undefined], [1, 'page-oncall', undefined], [2, 'page-oncall', undefined], [3, 'office', undefined]]);
    const page = drafts[2]?.spec;
    assert.ok(page !== undefined && 'run' in page);
    assert.equal(page.expectedExit, 3);
    assert.deepEqual(plan(event({ type: 'rearm' })).map((d) => d.actionIndex), [1]);
  });

  test('outside its window a response is skipped and says why; the others run', () => {
    const saturday = plan(event({ time: '2024-01-13T10:00:00.000Z' }));
    assert.deepEqual(saturday.map((d) => [d.actionIndex, d.skip?.reason]), [[0, undefined], [1, undefined], [2, undefined], [3, 'outside-window']]);
    assert.match(saturday[3]?.skip?.detail ?? '', /office: Mon-Fri 08:00-18:00 UTC/);
  });

  test('a silenced event skips every action with the silence id; a mute (inhibition) likewise', () => {
    assert.deepEqual(plan(event({ silenced: 'f00d' })).map((d) => d.skip), Array(4).fill({ reason: 'silenced', detail: 'f00d' }));
    assert.deepEqual(plan(event(), { reason: 'inhibited', detail: 'Node n2 down' }).map((d) => d.skip?.reason), Array(4).fill('inhibited'));
  });

  test('placement: owner runs on the subscription node, origin on the resource node, all everywhere', () => {
    assert.equal(runsHere(undefined, 'n1', 'n1', 'n2'), true);
    assert.equal(runsHere('owner', 'n2', 'n1', 'n2'), false);
    assert.equal(runsHere('origin', 'n2', 'n1', 'n2'), true);
    assert.equal(runsHere('origin', 'n1', 'n1', 'n2'), false);
    assert.equal(runsHere('all', 'n3', 'n1', 'n2'), true);
    assert.deepEqual(plan(event(), undefined, 'n2'), []);
  });
});
