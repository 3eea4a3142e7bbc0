/**
 * The TypeScript side of the PyTorch parity tests (pretrain/tests/test_parity.py):
 *
 *   tsx test/pretrain/ts-model.ts init SEED N H tied|separate OUT.bin [population] [f16|i8]
 *       a fresh model (GruModel.create, seeded) written with serializeGru, with a
 *       population section built from a few sequences when asked, its item matrix in
 *       float16 or int8 when asked (float32 otherwise)
 *   tsx test/pretrain/ts-model.ts score MODEL.bin PREFIXES.json OUT.f32
 *       readModelFile, then the GRU's scores after each prefix, float32 little-endian
 *   tsx test/pretrain/ts-model.ts describe MODEL.bin
 *       what readModelFile sees, as JSON
 *   tsx test/pretrain/ts-model.ts loss CASE.json
 *       the loss's row form (src/train/losses) on a score matrix: { lossSum, dS } as JSON
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { buildPopulation } from '../../src/baselines/population';
import { GruModel } from '../../src/model/model';
import { readModelFile, serializeGru } from '../../src/model/serialize';
import { lossFor } from '../../src/train/losses';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'init') {
  const [seed, n, h, embedding, out, ...rest] = args;
  const population = rest.includes('population');
  const precision = rest.find((a) => a === 'f16' || a === 'i8') as 'f16' | 'i8' | undefined;
  const numItems = Number(n);
  const model = GruModel.create(
    {
      numItems,
      hiddenSize: Number(h),
      embedding: embedding as 'tied' | 'separate',
      embeddingSize: Number(h) + 3,
    },
    { seed: Number(seed), vocab: Array.from({ length: numItems }, (_, j) => `item-${j}`) },
  );
  let pop = null;
  if (population) {
    const items = Int32Array.from({ length: 400 }, (_, j) => (j * 7919) % numItems);
    const offsets = Int32Array.from({ length: 41 }, (_, j) => j * 10);
    pop = buildPopulation({ items, offsets, numItems });
  }
  writeFileSync(out, new Uint8Array(serializeGru(model, pop, { precision })));
} else if (mode === 'score') {
  const [file, prefixes, out] = args;
  const { model } = readModelFile(readFileSync(file));
  const scorer = model.scorer();
  const list: number[][] = JSON.parse(readFileSync(prefixes, 'utf8'));
  const all = new Float32Array(list.length * model.numItems);
  for (const [k, p] of list.entries()) {
    all.set(scorer.scores(Int32Array.from(p)), k * model.numItems);
  }
  writeFileSync(out, new Uint8Array(all.buffer));
} else if (mode === 'describe') {
  const { model, population } = readModelFile(readFileSync(args[0]));
  process.stdout.write(
    `${JSON.stringify({
      config: model.config,
      vocab: model.vocab ? model.vocab.length : null,
      vocabHead: model.vocab?.slice(0, 3) ?? null,
      meta: model.meta,
      population: population !== null,
    })}\n`,
  );
} else if (mode === 'loss') {
  const c = JSON.parse(readFileSync(args[0], 'utf8'));
  const { B, M } = c;
  const hits: Int32Array | null = c.hits ? Int32Array.from((c.hits as number[][]).flat()) : null;
  const r = lossFor(c.kind).rows(
    Float32Array.from(c.S),
    B,
    M,
    Int32Array.from({ length: B }, (_, b) => b),
    { bprReg: c.bprReg, elu: c.elu },
    c.logQ ? Float32Array.from(c.logQ) : null,
    hits,
  );
  process.stdout.write(`${JSON.stringify({ lossSum: r.lossSum, dS: [...r.dS] })}\n`);
} else {
  process.stderr.write('usage: ts-model.ts init|score|describe|loss …\n');
  process.exit(2);
}
