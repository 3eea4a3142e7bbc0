import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_LIMITS, validateEvent, validateEvents } from '../../src/events';

const NOW = 1_700_000_000_000;

function errorOf(fn: () => unknown): { code: string; details: { field?: string; index?: number } } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; details: { field?: string; index?: number } };
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
        timestamp: new Date(5),
        sessionId: 's',
        properties: props,
      },
      { now: NOW },
    );
    expect(e).toEqual({
      itemId: 'x',
      type: 'video:play',
      timestamp: 5,
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
        timestamp: fc.integer({ min: 0, max: 4_000_000_000_000 }),
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
