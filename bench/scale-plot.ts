// Draws the scale benchmark's curves as one SVG (docs/scale/scale.svg) from its own JSON
// (docs/scale/scale-node.json from bench/scale.ts, docs/scale/scale-browser.json from
// bench/scale-browser.ts when present). Hand-written SVG, no plotting library: small
// log-log panels, each with the measured points and a dashed line of the cost's stated
// complexity (slope 1 = linear, slope 0 = flat) through the first point, so a curve that
// follows its complexity runs along its dashed line.
//
// Usage: npx tsx bench/scale-plot.ts [--node docs/scale/scale-node.json]
//        [--browser docs/scale/scale-browser.json] [--out docs/scale/scale.svg]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { benchArg } from './runtime-page';

interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  points: [number, number][];
  /** Stated complexity as a log-log slope for the dashed reference (null: none). */
  slope: number | null;
}

const nodeFile = benchArg('--node', 'docs/scale/scale-node.json');
const browserFile = benchArg('--browser', 'docs/scale/scale-browser.json');
const out = benchArg('--out', 'docs/scale/scale.svg');

// biome-ignore lint/suspicious/noExplicitAny: the benchmarks' JSON
const node: any = JSON.parse(readFileSync(nodeFile, 'utf8'));
// biome-ignore lint/suspicious/noExplicitAny: the benchmarks' JSON
const browser: any = existsSync(browserFile) ? JSON.parse(readFileSync(browserFile, 'utf8')) : null;
// biome-ignore lint/suspicious/noExplicitAny: the benchmarks' JSON
type Row = any;
const rows: Row[] = node.rows;
// the catalog sweep: rows at the most common event count; the log sweep: at 100k items
const eventsOfSweep = rows[0].events;
const byItems = rows.filter((r) => r.events === eventsOfSweep).sort((a, b) => a.items - b.items);
const bigItems = 100000;
const byEvents = rows.filter((r) => r.items === bigItems).sort((a, b) => a.events - b.events);
const ev = `${eventsOfSweep / 1e6}M events`;

const panels: Panel[] = [
  {
    title: `top-20 over all items (Node, ${ev})`,
    xLabel: 'items',
    yLabel: 'ms (p50)',
    points: byItems.map((r) => [r.items, r.top20P50]),
    slope: 1,
  },
  {
    title: 'model file (float32)',
    xLabel: 'items',
    yLabel: 'MB',
    points: byItems.map((r) => [r.items, r.modelBytes / 2 ** 20]),
    slope: 1,
  },
  {
    title: `training speed (${ev})`,
    xLabel: 'items',
    yLabel: 'events/s',
    points: byItems.map((r) => [r.items, r.eventsPerSecond]),
    slope: 0,
  },
  {
    title: `peak RSS while training (${ev})`,
    xLabel: 'items',
    yLabel: 'MB',
    points: byItems.map((r) => [r.items, r.peakRssMB]),
    slope: null,
  },
  {
    title: 'fine-tune a visitor, 3 epochs',
    xLabel: 'items',
    yLabel: 's',
    points: byItems.map((r) => [r.items, r.fineTuneSeconds]),
    slope: null,
  },
  {
    title: `one epoch, ${bigItems / 1000}k items (extrapolated past the cap)`,
    xLabel: 'events',
    yLabel: 's',
    points: byEvents.map((r) => [r.events, r.epochSecondsFull]),
    slope: 1,
  },
  {
    title: `training speed, ${bigItems / 1000}k items`,
    xLabel: 'events',
    yLabel: 'events/s',
    points: byEvents.map((r) => [r.events, r.eventsPerSecond]),
    slope: 0,
  },
];
if (browser) {
  const b: Row[] = [...browser.rows].sort((x, y) => x.items - y.items);
  panels.push(
    {
      title: 'Chromium: recommend({k:20}) via worker',
      xLabel: 'items',
      yLabel: 'ms (p50)',
      points: b.map((r) => [r.items, r.plain.p50]),
      slope: 1,
    },
    {
      title: 'Chromium: first list from the model',
      xLabel: 'items',
      yLabel: 'ms',
      points: b.map((r) => [r.items, r.firstModelMs]),
      slope: 1,
    },
    {
      title: 'Chromium: setCatalog (first write)',
      xLabel: 'items',
      yLabel: 'ms',
      points: b.map((r) => [r.items, r.setCatalogMs]),
      slope: 1,
    },
  );
}

const W = 300;
const H = 210;
const M = { l: 52, r: 12, t: 28, b: 36 };
const cols = 3;
const fmt = (v: number) =>
  v >= 1e6
    ? `${+(v / 1e6).toPrecision(3)}M`
    : v >= 1e3
      ? `${+(v / 1e3).toPrecision(3)}k`
      : `${+v.toPrecision(3)}`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel(p: Panel, ox: number, oy: number): string {
  const pts = p.points.filter(([x, y]) => x > 0 && y > 0);
  if (pts.length === 0) return '';
  const lx = pts.map(([x]) => Math.log10(x));
  const ly = pts.map(([, y]) => Math.log10(y));
  let x0 = Math.min(...lx);
  let x1 = Math.max(...lx);
  let y0 = Math.min(...ly);
  let y1 = Math.max(...ly);
  if (p.slope !== null) {
    // keep the reference line's end in view
    const yEnd = ly[0] + p.slope * (x1 - lx[0]);
    y0 = Math.min(y0, yEnd);
    y1 = Math.max(y1, yEnd);
  }
  if (x1 - x0 < 0.2) [x0, x1] = [x0 - 0.1, x1 + 0.1];
  if (y1 - y0 < 0.3) [y0, y1] = [(y0 + y1) / 2 - 0.15, (y0 + y1) / 2 + 0.15];
  const pad = 0.05 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const sx = (v: number) => ox + M.l + ((v - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => oy + M.t + ph - ((v - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(
    `<rect x="${ox + M.l}" y="${oy + M.t}" width="${pw}" height="${ph}" fill="#fff" stroke="#999"/>`,
  );
  parts.push(
    `<text x="${ox + W / 2}" y="${oy + 16}" text-anchor="middle" font-size="12" font-weight="bold">${esc(p.title)}</text>`,
  );
  // ticks at the measured x values, 3 y ticks
  for (const [i, x] of pts.map(([x]) => x).entries()) {
    parts.push(
      `<text x="${sx(lx[i])}" y="${oy + H - M.b + 14}" text-anchor="middle" font-size="10">${fmt(x)}</text>`,
    );
  }
  for (let t = 0; t <= 2; t++) {
    const v = y0 + pad + ((y1 - y0 - 2 * pad) * t) / 2;
    parts.push(
      `<line x1="${ox + M.l}" x2="${ox + M.l + pw}" y1="${sy(v)}" y2="${sy(v)}" stroke="#eee"/>`,
      `<text x="${ox + M.l - 4}" y="${sy(v) + 3}" text-anchor="end" font-size="10">${fmt(10 ** v)}</text>`,
    );
  }
  parts.push(
    `<text x="${ox + M.l + pw / 2}" y="${oy + H - 6}" text-anchor="middle" font-size="10" fill="#555">${esc(p.xLabel)} (log)</text>`,
    `<text x="${ox + 12}" y="${oy + M.t + ph / 2}" text-anchor="middle" font-size="10" fill="#555" transform="rotate(-90 ${ox + 12} ${oy + M.t + ph / 2})">${esc(p.yLabel)} (log)</text>`,
  );
  if (p.slope !== null) {
    const xa = lx[0];
    const xb = Math.max(...lx);
    parts.push(
      `<line x1="${sx(xa)}" y1="${sy(ly[0])}" x2="${sx(xb)}" y2="${sy(ly[0] + p.slope * (xb - xa))}" stroke="#d62728" stroke-dasharray="4 3"/>`,
      `<text x="${ox + M.l + 4}" y="${oy + M.t + 11}" font-size="9" fill="#d62728">dashed: ${p.slope === 1 ? 'linear' : 'flat'}</text>`,
    );
  }
  parts.push(
    `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${lx.map((x, i) => `${sx(x).toFixed(1)},${sy(ly[i]).toFixed(1)}`).join(' ')}"/>`,
  );
  for (const [i, [, y]] of pts.entries()) {
    parts.push(
      `<circle cx="${sx(lx[i]).toFixed(1)}" cy="${sy(ly[i]).toFixed(1)}" r="3" fill="#1f77b4"><title>${fmt(pts[i][0])}: ${fmt(y)}</title></circle>`,
    );
  }
  return parts.join('\n');
}

const rowsN = Math.ceil(panels.length / cols);
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * W}" height="${rowsN * H + 24}" font-family="sans-serif" role="img" aria-label="localrec scale benchmark curves">`,
  '<title>localrec scale benchmark: costs against catalog size and log size</title>',
  `<rect width="100%" height="100%" fill="#fafafa"/>`,
  `<text x="8" y="16" font-size="12">localrec scale benchmark — ${esc(node.platform)}, Node ${esc(node.node)}, hidden ${node.hidden}, WASM; training capped at ${node.trainCap} events (bench/scale.ts${browser ? ', bench/scale-browser.ts' : ''})</text>`,
  ...panels.map((p, i) => panel(p, (i % cols) * W, 24 + Math.floor(i / cols) * H)),
  '</svg>',
].join('\n');
writeFileSync(out, `${svg}\n`);
console.log(`wrote ${out} (${panels.length} panels)`);

// The same numbers as Markdown tables (for docs/SCALE.md), on stdout.
if (process.argv.includes('--markdown')) {
  const f = (v: number, d = 1) => v.toFixed(d);
  const lines = [
    '| items | events | trained events (examples) | events/s | epoch s | peak RSS MB | peak heap MB | model MB | scores p50 ms | top-20 p50 / p95 ms | fine-tune 1 ep / 3 ep s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${fmt(r.items)} | ${fmt(r.events)} | ${fmt(r.trainLogEvents ?? r.trainEvents)} (${fmt(r.trainEvents)}) | ${f(r.eventsPerSecond, 0)} | ${f(r.epochSecondsFull, 0)}${(r.trainLogEvents ?? r.events) < r.events ? ' (extrap.)' : ''} | ${f(r.peakRssMB, 0)} | ${f(r.peakHeapMB, 0)} | ${f(r.modelBytes / 2 ** 20)} | ${f(r.scoresP50, 2)} | ${f(r.top20P50, 2)} / ${f(r.top20P95, 2)} | ${f(r.fineTune1Seconds ?? Number.NaN, 2)} / ${f(r.fineTuneSeconds, 2)} |`,
    ),
  ];
  if (browser) {
    lines.push(
      '',
      '| items | model MB | fetch ms | first list from the model ms | warmUp ms | recommend k20 p50 / p95 ms (mix) | + 10 exclusions | GRU alone | GRU alone + 10 excl. | filter 1% p50 / p95 (GRU share) | filter 10% | setCatalog ms (again) | stats bytesEstimate MB | page+worker memory MB |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...[...browser.rows]
        .sort((a: Row, b: Row) => a.items - b.items)
        .map((r: Row) => {
          const pp = (x: Row) => (x ? `${f(x.p50)} / ${f(x.p95)}` : 'n/a');
          const share = (x: Row) => {
            const all = Object.values(x.scorers as Record<string, number>).reduce(
              (a, b) => a + b,
              0,
            );
            return `${Math.round((100 * ((x.scorers.gru ?? 0) + (x.scorers.sr ?? 0) + (x.scorers.itemknn ?? 0))) / all)}%`;
          };
          return `| ${fmt(r.items)} | ${f(r.bytes / 2 ** 20)} | ${f(r.fetchMs, 0)} | ${f(r.firstModelMs ?? Number.NaN, 0)} | ${f(r.loadMs, 0)} | ${pp(r.plain)} | ${pp(r.exclude)} | ${pp(r.gruOnly)} | ${pp(r.gruOnlyExclude)} | ${pp(r.filter1)} (${share(r.filter1)}) | ${pp(r.filter10)} (${share(r.filter10)}) | ${f(r.setCatalogMs, 0)} (${f(r.setCatalogAgainMs, 0)}) | ${f(r.stats.bytesEstimate / 2 ** 20)} | ${r.memoryMB === null ? 'n/a' : f(r.memoryMB, 0)} |`;
        }),
    );
  }
  console.log(lines.join('\n'));
}
