// The pure parts of the drop-in (no DOM needed): script-tag attributes, the stub's queue
// and its replay order, click/ignore rules of auto-tracking, and template field values
// and URL vetting.
import { describe, expect, it } from 'vitest';
import type { Recommendation } from '../../src/api/recommender';
import {
  clickEventFor,
  type ElementLike,
  isIgnored,
  isViewTarget,
  visibleEnough,
} from '../../src/dom/auto-track';
import {
  createCommandRunner,
  readQueue,
  runCommand,
  takeConfig,
} from '../../src/dom/command-queue';
import { attributeValue, fieldValue, safeUrl, signature } from '../../src/dom/render';
import { mergeOptions, parseSwitch, readScriptConfig } from '../../src/dom/script-config';

function attrs(map: Record<string, string>) {
  return (name: string) => (name in map ? map[name] : null);
}

describe('script-tag attributes', () => {
  it('reads namespace, consent, pretrained, catalog, worker, backend, switches', () => {
    const c = readScriptConfig(
      attrs({
        namespace: 'shop',
        consent: 'pending',
        pretrained: '/m.bin',
        catalog: '/c.json',
        'worker-url': '/w.js',
        backend: 'wasm',
        'auto-train': 'off',
        'auto-track': 'false',
        'view-dwell-ms': '250',
      }),
    );
    expect(c).toEqual({
      options: {
        namespace: 'shop',
        consent: 'pending',
        pretrained: '/m.bin',
        workerUrl: '/w.js',
        backend: { force: 'wasm' },
        training: { auto: false },
      },
      catalogUrl: '/c.json',
      autoTrack: false,
      viewDwellMs: 250,
      configured: true,
      warnings: [],
    });
  });

  it('defaults with no attributes, and warns (never throws) on bad values', () => {
    expect(readScriptConfig(attrs({}))).toMatchObject({
      options: {},
      autoTrack: true,
      viewDwellMs: 500,
      configured: false,
    });
    const bad = readScriptConfig(
      attrs({ consent: 'yes', backend: 'gpu', 'auto-track': 'maybe', 'view-dwell-ms': '-1' }),
    );
    expect(bad.options).toEqual({});
    expect(bad.autoTrack).toBe(true);
    expect(bad.warnings).toHaveLength(4);
    expect(parseSwitch('')).toBe(true); // <script data-auto-track>
    expect(parseSwitch('OFF')).toBe(false);
  });

  it('merges config commands over attributes, nested objects too', () => {
    expect(
      mergeOptions(
        { namespace: 'a', training: { auto: false }, backend: { force: 'wasm' } },
        { training: { epochs: 2 }, backend: { exclude: ['webgpu'] } },
      ),
    ).toEqual({
      namespace: 'a',
      training: { auto: false, epochs: 2 },
      backend: { force: 'wasm', exclude: ['webgpu'] },
    });
  });
});

describe('the stub queue', () => {
  it('reads [time, command] entries and bare commands, skipping junk', () => {
    const fn = () => 1;
    const { entries, invalid } = readQueue([
      [5, ['track', { itemId: 'a', type: 'view' }]],
      ['track', { itemId: 'b', type: 'view' }],
      fn,
      42,
      [7, 'nope'],
    ]);
    expect(entries).toEqual([
      { command: ['track', { itemId: 'a', type: 'view' }], time: 5 },
      { command: ['track', { itemId: 'b', type: 'view' }] },
      { command: fn },
    ]);
    expect(invalid).toBe(2);
    expect(readQueue(undefined)).toEqual({ entries: [], invalid: 0 });
  });

  it('takes config commands out', () => {
    const { config, rest } = takeConfig([
      { command: ['config', { namespace: 'x' }] },
      { command: ['track', {}] },
    ]);
    expect(config).toEqual([{ namespace: 'x' }]);
    expect(rest).toEqual([{ command: ['track', {}] }]);
  });

  it('replays in order, fills queued timestamps, refuses unknown methods, stays quiet on consent', async () => {
    const log: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => {
      release = r;
    });
    const rec = {
      async track(e: { itemId: string; timestamp?: number }) {
        if (e.itemId === 'slow') await slow;
        if (e.itemId === 'nope')
          throw Object.assign(new Error('no consent'), { code: 'CONSENT_REQUIRED' });
        log.push(`track ${e.itemId}@${e.timestamp ?? '-'}`);
      },
      async setConsent(c: string) {
        log.push(`consent ${c}`);
      },
      emit() {
        log.push('private!');
      },
    };
    const reports: string[] = [];
    let resolveRec!: (r: unknown) => void;
    const recPromise = new Promise((r) => {
      resolveRec = r;
    });
    const runner = createCommandRunner(recPromise as never, {
      report: (_e, c) => reports.push(c),
    });
    const p1 = runner.enqueue({ command: ['track', { itemId: 'slow', type: 'view' }], time: 1 });
    const p2 = runner.enqueue({ command: ['track', { itemId: 'nope', type: 'view' }] });
    const p3 = runner.enqueue({ command: ['setConsent', 'granted'] });
    const p4 = runner.enqueue({ command: ['emit'] });
    const p5 = runner.enqueue({
      command: ['track', { itemId: 'b', type: 'view', timestamp: 9 }],
      time: 2,
    });
    resolveRec(rec);
    await Promise.resolve();
    expect(log).toEqual([]); // waits for the slow first track
    release();
    await runner.idle();
    await Promise.allSettled([p1, p2, p3, p4, p5]);
    expect(log).toEqual(['track slow@1', 'consent granted', 'track b@9']);
    await expect(p2).rejects.toMatchObject({ code: 'CONSENT_REQUIRED' });
    await expect(p4).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(reports).toEqual(['"emit"']); // consent refusals are not reported
  });

  it('runs functions with the recommender', async () => {
    const rec = { name: 'r' };
    expect(
      await runCommand(rec as never, { command: (r) => (r as never as { name: string }).name }),
    ).toBe('r');
  });
});

function el(
  attributes: Record<string, string>,
  parent: ElementLike | null = null,
): ElementLike & { attributes: Record<string, string> } {
  return {
    attributes,
    parentElement: parent,
    getAttribute: (n) => (n in attributes ? attributes[n] : null),
    hasAttribute: (n) => n in attributes,
  };
}

describe('auto-tracking rules', () => {
  it('a click maps to the nearest item, with the nearest action type below it', () => {
    const item = el({ 'data-localrec-item': 'sku-1' });
    const link = el({}, item);
    const cart = el({ 'data-localrec-event': 'add_to_cart' }, item);
    const inCart = el({}, cart);
    expect(clickEventFor(link)).toEqual({ itemId: 'sku-1', type: 'click' });
    expect(clickEventFor(inCart)).toEqual({ itemId: 'sku-1', type: 'add_to_cart' });
    expect(clickEventFor(el({}))).toBeNull();
    const both = el({ 'data-localrec-item': 'sku-2', 'data-localrec-event': 'purchase' });
    expect(clickEventFor(both)).toEqual({ itemId: 'sku-2', type: 'purchase' });
  });

  it('an ignored region hides everything inside it, from clicks and views', () => {
    const region = el({ 'data-localrec-ignore': '' });
    const item = el({ 'data-localrec-item': 'secret' }, region);
    const button = el({}, item);
    expect(isIgnored(button)).toBe(true);
    expect(clickEventFor(button)).toBeNull();
    expect(isViewTarget(item)).toBe(false);
    expect(isIgnored(el({ 'data-localrec-ignore': 'false' }))).toBe(false);
  });

  it('views: items, not action buttons, not regions with views off', () => {
    expect(isViewTarget(el({ 'data-localrec-item': 'a' }))).toBe(true);
    expect(isViewTarget(el({ 'data-localrec-item': ' ' }))).toBe(false);
    expect(
      isViewTarget(el({ 'data-localrec-item': 'a', 'data-localrec-event': 'add_to_cart' })),
    ).toBe(false);
    const recs = el({ 'data-localrec-views': 'off' });
    expect(isViewTarget(el({ 'data-localrec-item': 'a' }, recs))).toBe(false);
  });

  it('half visible, or half the viewport covered by a tall item', () => {
    const rect = (width: number, height: number) => ({ width, height }) as DOMRectReadOnly;
    const root = rect(1000, 700);
    expect(
      visibleEnough(
        { intersectionRatio: 0.5, intersectionRect: rect(100, 50), rootBounds: root },
        0.5,
      ),
    ).toBe(true);
    expect(
      visibleEnough(
        { intersectionRatio: 0.3, intersectionRect: rect(100, 30), rootBounds: root },
        0.5,
      ),
    ).toBe(false);
    expect(
      visibleEnough(
        { intersectionRatio: 0.2, intersectionRect: rect(1000, 600), rootBounds: root },
        0.5,
      ),
    ).toBe(true);
  });
});

describe('template values', () => {
  const r: Recommendation = {
    itemId: 'x1',
    rank: 1,
    score: 0.123456,
    scorer: 'gru',
    explanation: { because: 'x0', text: 'Because you viewed <b>x0</b>' },
    item: {
      id: 'x1',
      title: '<img src=x onerror=alert(1)>',
      attributes: { url: '/p/1', tags: ['a', 'b'] },
    },
  };

  it('fields as plain strings (markup stays text: the DOM side uses textContent)', () => {
    expect(fieldValue(r, 'title')).toBe('<img src=x onerror=alert(1)>');
    expect(fieldValue(r, 'itemId')).toBe('x1');
    expect(fieldValue(r, 'rank')).toBe('1');
    expect(fieldValue(r, 'score')).toBe('0.1235');
    expect(fieldValue(r, 'explanation')).toBe('Because you viewed <b>x0</b>');
    expect(fieldValue(r, 'because')).toBe('x0');
    expect(fieldValue(r, 'attributes.url')).toBe('/p/1');
    expect(fieldValue(r, 'attributes.tags')).toBe('a, b');
    expect(fieldValue(r, 'attributes.none')).toBeUndefined();
    expect(fieldValue({ ...r, item: undefined }, 'title')).toBe('x1');
  });

  it('attributes: no handlers or style; URLs only http(s) or relative', () => {
    const base = 'https://shop.example/list';
    expect(attributeValue('onclick', 'x', base)).toBeNull();
    expect(attributeValue('ONload', 'x', base)).toBeNull();
    expect(attributeValue('style', 'x', base)).toBeNull();
    expect(attributeValue('srcdoc', 'x', base)).toBeNull();
    expect(attributeValue('href', 'javascript:alert(1)', base)).toBeNull();
    expect(attributeValue('href', ' JavaScript:alert(1)', base)).toBeNull();
    expect(attributeValue('src', 'data:text/html,x', base)).toBeNull();
    expect(attributeValue('href', '/p/1', base)).toBe('/p/1');
    expect(attributeValue('href', 'https://cdn.example/a.png', base)).toBe(
      'https://cdn.example/a.png',
    );
    expect(attributeValue('alt', '<b>x</b>', base)).toBe('<b>x</b>');
    expect(safeUrl('http://[bad', base)).toBeNull();
  });

  it('the signature changes with what is shown only', () => {
    expect(signature([r])).toBe(signature([{ ...r, score: 9 }]));
    expect(signature([r])).not.toBe(signature([{ ...r, scorer: 'sr' }]));
  });
});
