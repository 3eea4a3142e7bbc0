/**
 * Cases shared by the TypeScript code and the PyTorch pretraining package (pretrain/):
 * inputs and what localrec's own code makes of them, so both sides are checked against
 * the same expectations. `shared-cases.test.ts` checks that the committed JSON is what
 * this code produces today; pretrain/tests/test_shared_cases.py checks the Python side.
 *
 * Regenerate: npx tsx test/pretrain/shared-cases.ts > test/pretrain/fixtures/shared-cases.json
 * && npx biome format --write test/pretrain/fixtures/shared-cases.json
 */
import { parseInteractionsCsv } from '../../src/eval/csv';
import { type ProtocolOptions, prepareDataset } from '../../src/eval/protocol';
import { sessionise } from '../../src/events/sessionise';

interface SessioniseCase {
  name: string;
  input: { items: number[]; times: number[]; sessionIds: (string | null)[]; gapMs: number };
}

const MIN = 60_000;
const SESSIONISE: SessioniseCase[] = [
  {
    name: 'gap cuts id-less events; exactly the gap does not cut',
    input: {
      items: [0, 1, 2, 3, 4],
      times: [0, 30 * MIN, 61 * MIN, 61 * MIN, 200 * MIN],
      sessionIds: [null, null, null, null, null],
      gapMs: 30 * MIN,
    },
  },
  {
    name: 'session ids group across gaps and interleave with id-less events',
    input: {
      items: [5, 6, 7, 8, 9, 1],
      times: [0, 10, 5 * 60 * MIN, 20, 5 * 60 * MIN + 1, 30],
      sessionIds: ['a', null, 'a', 'b', null, 'b'],
      gapMs: 30 * MIN,
    },
  },
  {
    name: 'unsorted input: ordered by time, ties in input order',
    input: {
      items: [3, 2, 1, 0, 4],
      times: [500, 100, 100, 0, 10_000_000],
      sessionIds: [null, null, null, null, null],
      gapMs: 1000,
    },
  },
  { name: 'empty', input: { items: [], times: [], sessionIds: [], gapMs: 30 * MIN } },
];

interface ProtocolCase {
  name: string;
  csv: string;
  options: ProtocolOptions;
}

/** A deterministic log with same-second ties, rare items and short users. */
function syntheticLog(): string {
  const lines = ['userId,movieId,rating,timestamp'];
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  for (let u = 1; u <= 40; u++) {
    const n = 2 + Math.floor(rand() * 25);
    let t = 1_000_000 + u * 17;
    for (let j = 0; j < n; j++) {
      if (rand() < 0.6) t += Math.floor(rand() * 5000); // else a same-second tie
      const item = 1 + Math.floor(rand() ** 2 * 60);
      lines.push(`${u * 7},${item},3.5,${t}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const PROTOCOL: ProtocolCase[] = [
  { name: 'synthetic log, k 5', csv: syntheticLog(), options: { k: 5 } },
  {
    name: 'synthetic log, k 1, min item 3, min user 4',
    csv: syntheticLog(),
    options: { k: 1, minItemCount: 3, minUserCount: 4 },
  },
  {
    name: 'string ids, quoted fields, CRLF, BOM, custom order of columns',
    csv:
      '\uFEFFtimestamp,"itemId",userId\r\n' +
      Array.from({ length: 60 }, (_, j) => `${100 + (j % 7)},"sku-${j % 6}",visitor-${j % 4}`).join(
        '\r\n',
      ) +
      '\r\n',
    options: { k: 2, minItemCount: 2, minUserCount: 2 },
  },
];

export function sharedCases() {
  return {
    sessionise: SESSIONISE.map((c) => {
      const r = sessionise(
        {
          items: Int32Array.from(c.input.items),
          times: Float64Array.from(c.input.times),
          sessionIds: c.input.sessionIds,
          numItems: 10,
        },
        c.input.gapMs,
      );
      return {
        ...c,
        expected: {
          items: [...r.sequences.items],
          offsets: [...r.sequences.offsets],
          times: [...r.sequences.times],
          sessionIds: r.sessionIds,
        },
      };
    }),
    protocol: PROTOCOL.map((c) => {
      const d = prepareDataset(parseInteractionsCsv(c.csv), c.options);
      return {
        ...c,
        expected: {
          itemIds: [...d.itemIds],
          userIds: [...d.userIds],
          fullItems: [...d.full.items],
          fullOffsets: [...d.full.offsets],
          trainOffsets: [...d.train.offsets],
          counts: d.counts,
        },
      };
    }),
  };
}

if (process.argv[1]?.endsWith('shared-cases.ts')) {
  process.stdout.write(`${JSON.stringify(sharedCases(), null, 1)}\n`);
}
