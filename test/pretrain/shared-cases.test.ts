import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedCases } from './shared-cases';

// The Python pretraining package is tested against this file
// (pretrain/tests/test_shared_cases.py): it must say what the TypeScript code does today.
describe('shared sessionisation and protocol cases (pretrain/)', () => {
  it('the committed fixture is what the TypeScript code produces', () => {
    const committed = JSON.parse(
      readFileSync(join(__dirname, 'fixtures', 'shared-cases.json'), 'utf8'),
    );
    expect(JSON.parse(JSON.stringify(sharedCases()))).toEqual(committed);
  });

  it('the cases cover what they are meant to', () => {
    const c = sharedCases();
    const gap = c.sessionise[0].expected;
    expect(gap.offsets).toEqual([0, 2, 4, 5]); // 30 min exactly joins, 31 min cuts
    const p = c.protocol[0].expected;
    expect(p.counts.evalUsers).toBeGreaterThan(5);
    expect(p.counts.trainOnlyUsers).toBeGreaterThan(0);
    expect(c.protocol[2].expected.itemIds).toEqual([0, 1, 2, 3, 4, 5]); // string ids → codes
  });
});
