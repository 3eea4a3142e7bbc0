import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_LIMITS, validateEvent, validateEvents } from '../../src/events';

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;

type Thrown = { code: string; message: string; details: { field?: string; index?: number } };

function errorOf(fn: () => unknown): Thrown {
  try {
    fn();
  } catch (error) {
    return error as Thrown;
  }
  throw new Error('expected a throw');
}

describe('validateEvent', () => {
  it('normalizes a minimal event: timestamp defaults to now', () => {
    expect(validateEvent({ itemId: 'sku-1', type: 'view' }, { now: NOW })).toEqual({
      itemId: 'sku-1',
      type: 'view',
      timestamp: NOW,
    });
  });

  it('accepts Date timestamps, built-in and custom types, sessionId, properties (deep-copied)', () => {
    const props = { price: 9.5, tags: ['a', null, true], nested: { x: 'y' } };
    const e = validateEvent(
      {
        itemId: 'x',
        type: 'video:play',
        timestamp: new Date(NOW - 5),
        sessionId: 's',
        properties: props,
      },
      { now: NOW },
    );
    expect(e).toEqual({
      itemId: 'x',
      type: 'video:play',
      timestamp: NOW - 5,
      sessionId: 's',
      properties: props,
    });
    props.nested.x = 'mutated';
    expect(e.properties?.nested).toEqual({ x: 'y' });
    for (const type of ['view', 'click', 'add_to_cart', 'purchase', 'wish-list', 'a.b_c']) {
      expect(validateEvent({ itemId: 'x', type }, { now: NOW }).type).toBe(type);
    }
  });

  it.each([
    ['itemId', { type: 'view' }],
    ['itemId', { itemId: 3, type: 'view' }],
    ['itemId', { itemId: '', type: 'view' }],
    ['itemId', { itemId: 'x'.repeat(EVENT_LIMITS.itemIdMaxLength + 1), type: 'view' }],
    ['type', { itemId: 'a' }],
    ['type', { itemId: 'a', type: '' }],
    ['type', { itemId: 'a', type: '1view' }],
    ['type', { itemId: 'a', type: 'has space' }],
    ['type', { itemId: 'a', type: 'x'.repeat(65) }],
    ['timestamp', { itemId: 'a', type: 'view', timestamp: Number.NaN }],
    ['timestamp', { itemId: 'a', type: 'view', timestamp: Number.POSITIVE_INFINITY }],
    ['timestamp', { itemId: 'a', type: 'view', timestamp: 9e15 }],
    ['timestamp', { itemId: 'a', type: 'view', timestamp: '2024-01-01' }],
    ['timestamp', { itemId: 'a', type: 'view', timestamp: new Date(Number.NaN) }],
    ['sessionId', { itemId: 'a', type: 'view', sessionId: '' }],
    ['sessionId', { itemId: 'a', type: 'view', sessionId: 7 }],
    ['sessionId', { itemId: 'a', type: 'view', sessionId: 's'.repeat(129) }],
    ['properties', { itemId: 'a', type: 'view', properties: [] }],
    ['properties', { itemId: 'a', type: 'view', properties: new Map() }],
    ['properties', { itemId: 'a', type: 'view', properties: { big: 'x'.repeat(2000) } }],
    ['properties.f', { itemId: 'a', type: 'view', properties: { f: () => 1 } }],
    ['properties.n', { itemId: 'a', type: 'view', properties: { n: Number.NaN } }],
    ['properties.d', { itemId: 'a', type: 'view', properties: { d: new Date(0) } }],
    ['properties.u', { itemId: 'a', type: 'view', properties: { u: undefined } }],
    ['properties.b', { itemId: 'a', type: 'view', properties: { b: 1n } }],
    [
      'properties.a[1]',
      { itemId: 'a', type: 'view', properties: { a: Object.assign(new Array(3), { 0: 1, 2: 3 }) } },
    ],
    ['extra', { itemId: 'a', type: 'view', extra: 1 }],
  ])('rejects a bad %s', (field, input) => {
    const err = errorOf(() => validateEvent(input, { now: NOW }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.details.field).toBe(field);
  });

  it('timestamps are epoch ms within [now - retention, now + 1 day]; the edges are accepted', () => {
    const at = (timestamp: number | Date, maxAgeDays?: number) =>
      validateEvent({ itemId: 'a', type: 'view', timestamp }, { now: NOW, maxAgeDays }).timestamp;
    expect(at(NOW + DAY)).toBe(NOW + DAY);
    expect(at(NOW - 365 * DAY)).toBe(NOW - 365 * DAY);
    expect(at(new Date(NOW - 365 * DAY))).toBe(NOW - 365 * DAY);
    expect(at(NOW - 30 * DAY, 30)).toBe(NOW - 30 * DAY);
    // Without an age cap every non-negative time is kept, 1970 included.
    expect(at(0, Number.POSITIVE_INFINITY)).toBe(0);
    expect(at(1_700_000_000, Number.POSITIVE_INFINITY)).toBe(1_700_000_000);
  });

  it.each([
    ['more than a day ahead', NOW + DAY + 1, undefined, /ahead of the store's clock/],
    ['microseconds', NOW * 1000, undefined, /microseconds were probably given/],
    ['negative', -1, Number.POSITIVE_INFINITY, /negative/],
    ['a negative Date', new Date(-5), undefined, /negative/],
    ['older than 365 days', NOW - 365 * DAY - 1, undefined, /older than the retention window/],
    ['older than maxAgeDays', NOW - 31 * DAY, 30, /retention window of 30 days/],
    ['seconds', NOW / 1000, undefined, /milliseconds.*seconds were probably given/],
    ['seconds of 2001', 1e9, undefined, /seconds were probably given/],
  ])(
    'rejects a timestamp %s with INVALID_INPUT on field timestamp',
    (_label, timestamp, maxAgeDays, message) => {
      const err = errorOf(() =>
        validateEvent({ itemId: 'a', type: 'view', timestamp }, { now: NOW, maxAgeDays }),
      );
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.details.field).toBe('timestamp');
      expect(err.message).toMatch(message);
    },
  );

  it('says seconds only when the value looks like seconds', () => {
    const old = errorOf(() =>
      validateEvent({ itemId: 'a', type: 'view', timestamp: NOW - 400 * DAY }, { now: NOW }),
    );
    expect(old.message).not.toMatch(/seconds were/);
    const early = errorOf(() =>
      validateEvent({ itemId: 'a', type: 'view', timestamp: 5 }, { now: NOW }),
    );
    expect(early.message).not.toMatch(/seconds were/);
  });

  it('rejects non-objects and cyclic properties', () => {
    for (const bad of [null, undefined, 'view', 3, [], new (class X {})()]) {
      expect(errorOf(() => validateEvent(bad, { now: NOW })).code).toBe('INVALID_INPUT');
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(
      errorOf(() => validateEvent({ itemId: 'a', type: 'view', properties: cyclic }, { now: NOW }))
        .code,
    ).toBe('INVALID_INPUT');
  });
});

describe('validateEvents', () => {
  it('names events[i].field and details.index of the first bad element', () => {
    const err = errorOf(() =>
      validateEvents(
        [
          { itemId: 'a', type: 'view' },
          { itemId: 'b', type: 'view' },
          { itemId: 'c', type: 'nope nope' },
        ],
        NOW,
      ),
    );
    expect(err).toMatchObject({
      code: 'INVALID_INPUT',
      details: { field: 'events[2].type', index: 2 },
    });
  });

  it('names the event of a batch whose timestamp is out of range (seconds, future, too old)', () => {
    for (const [timestamp, maxAgeDays] of [
      [1_700_000_000, undefined],
      [NOW + 2 * DAY, undefined],
      [NOW - 8 * DAY, 7],
    ] as const) {
      const err = errorOf(() =>
        validateEvents(
          [
            { itemId: 'a', type: 'view', timestamp: NOW },
            { itemId: 'b', type: 'view', timestamp },
          ],
          NOW,
          maxAgeDays,
        ),
      );
      expect(err).toMatchObject({
        code: 'INVALID_INPUT',
        details: { field: 'events[1].timestamp', index: 1 },
      });
    }
  });

  it('rejects a non-array, a sparse array and an oversized batch', () => {
    expect(errorOf(() => validateEvents({ length: 1 }, NOW)).details.field).toBe('events');
    expect(
      errorOf(() =>
        validateEvents(
          Object.assign(new Array(3), {
            0: { itemId: 'a', type: 'view' },
            2: { itemId: 'a', type: 'view' },
          }),
          NOW,
        ),
      ).details,
    ).toEqual({
      field: 'events[1]',
      index: 1,
    });
    const big = new Array(EVENT_LIMITS.batchMaxEvents + 1).fill({ itemId: 'a', type: 'view' });
    expect(errorOf(() => validateEvents(big, NOW)).details.field).toBe('events');
  });

  it('property: valid events are accepted and normalized without loss', () => {
    const json = fc
      .jsonValue({ maxDepth: 3 })
      .filter((v) => JSON.stringify(v).length < 200 && !JSON.stringify(v).includes('"__proto__"'));
    const event = fc.record(
      {
        itemId: fc.string({ minLength: 1, maxLength: 40 }),
        type: fc.oneof(
          fc.constantFrom('view', 'click', 'add_to_cart', 'purchase'),
          fc.stringMatching(/^[a-z][a-z0-9_:-]{0,20}$/),
        ),
        // Anything the default retention keeps, up to the day of clock skew allowed.
        timestamp: fc.integer({ min: NOW - 365 * DAY, max: NOW + DAY }),
        sessionId: fc.string({ minLength: 1, maxLength: 20 }),
        properties: fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__'),
          json,
          { maxKeys: 3 },
        ),
      },
      { requiredKeys: ['itemId', 'type'] },
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 20 }), (events) => {
        const out = validateEvents(events, NOW);
        expect(out).toHaveLength(events.length);
        out.forEach((e, i) => {
          expect(e.itemId).toBe(events[i].itemId);
          expect(e.timestamp).toBe(events[i].timestamp ?? NOW);
          expect(e.properties).toEqual(
            events[i].properties === undefined
              ? undefined
              : JSON.parse(JSON.stringify(events[i].properties)),
          );
        });
      }),
    );
  });
});
