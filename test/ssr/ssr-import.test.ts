// SSR safety: importing localrec in plain Node (no window, document, navigator,
// customElements) must not throw, must not read any DOM global at import time, and must
// add no globals. Checked on the source entry always, and on the built dist/localrec.js
// when it exists (a fresh Node process: nothing of Vitest's around it).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dist = join(root, 'dist', 'localrec.js');

/** Names a browser defines that an import must not touch (traps record reads). */
const DOM_GLOBALS = [
  'window',
  'document',
  'navigator',
  'location',
  'self',
  'HTMLElement',
  'customElements',
  'IntersectionObserver',
  'MutationObserver',
  'localStorage',
  'indexedDB',
];

// Run in a child Node: traps on the DOM names, then import, then compare globals.
const PROBE = `
const target = process.argv[1];
const touched = [];
for (const name of ${JSON.stringify(DOM_GLOBALS)}) {
  const own = Object.getOwnPropertyDescriptor(globalThis, name);
  if (own && !own.configurable) continue;
  const original = own;
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() { touched.push(name); return original && 'value' in original ? original.value : original?.get?.call(globalThis); },
    set(v) { touched.push(name + '='); },
  });
}
const before = new Set(Reflect.ownKeys(globalThis).map(String));
const mod = await import(target);
const added = Reflect.ownKeys(globalThis).map(String).filter((k) => !before.has(k));
const atImport = [...touched];
console.log(JSON.stringify({ touched: atImport, added, exports: Object.keys(mod).length,
  hasCreate: typeof mod.createRecommender, hasDefine: typeof mod.defineElements,
  defined: typeof mod.defineElements === 'function' ? mod.defineElements() : null }));
`;

function probe(target: string) {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', PROBE, target],
    { cwd: root, encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('SSR: importing localrec in plain Node', () => {
  it('src/index.ts: no throw, no DOM global read, no global added', () => {
    const result = probe(pathToFileURL(join(root, 'src', 'index.ts')).href);
    expect(result).toMatchObject({
      touched: [],
      added: [],
      hasCreate: 'function',
      hasDefine: 'function',
      defined: false, // no customElements: defineElements() declines, quietly
    });
  });

  it.skipIf(!existsSync(dist))(
    'dist/localrec.js (the published entry): the same (skipped until `npm run build`)',
    () => {
      const result = probe(pathToFileURL(dist).href);
      expect(result).toMatchObject({
        touched: [],
        added: [],
        hasCreate: 'function',
        hasDefine: 'function',
        defined: false,
      });
    },
  );

  it('in this process too: the entry imports with no DOM globals defined', async () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    const before = new Set(Reflect.ownKeys(globalThis).map(String));
    const mod = await import('../../src/index');
    expect(typeof mod.createRecommender).toBe('function');
    expect(
      Reflect.ownKeys(globalThis)
        .map(String)
        .filter((k) => !before.has(k)),
    ).toEqual([]);
  });
});
