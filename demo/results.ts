// The offline results table: the JSON `localrec eval` wrote (assets/results.json).
import type { ReplayResults, Results } from './data';
import { $, fmtInt, h } from './dom';

const METRICS = ['HR@10', 'HR@20', 'MRR@20', 'NDCG@10'] as const;

export function renderResults(results: Results): void {
  const r = results.report;
  const models = Object.entries(r.models);
  const best = new Map<string, number>();
  for (const m of METRICS) best.set(m, Math.max(...models.map(([, x]) => x.test[m]?.mean ?? 0)));
  $<HTMLTableElement>('#results').tBodies[0].replaceChildren(
    ...models.map(([name, x]) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, name),
        ...METRICS.map((m) =>
          h(
            'td',
            { class: `num${x.test[m]?.mean === best.get(m) ? ' best' : ''}` },
            x.test[m] ? `${x.test[m].mean.toFixed(4)} ± ${x.test[m].se.toFixed(4)}` : '–',
          ),
        ),
        h('td', { class: 'num' }, x.fitSeconds.toFixed(2)),
        h(
          'td',
          { class: 'params' },
          Object.entries(x.params)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ') || '–',
        ),
      ),
    ),
  );
  $('#offline-note').textContent =
    `Protocol ${r.protocol} (last ${r.k} ratings of each user are test positions, ${fitText(r.fit)}): ` +
    `${fmtInt(r.counts.users)} users, ${fmtInt(r.counts.items)} items, ${fmtInt(r.counts.test)} test positions; ` +
    `mean ± standard error, best in bold. ${verdict(models)} Written by: ${results.command} (${results.generatedAt.slice(0, 10)}).`;
}

function fitText(mode: string): string {
  return mode === 'refit'
    ? 'models refitted on train + validation'
    : 'models fitted on training data';
}

/** One honest sentence: the best model by NDCG@10, and where the GRU stands. */
function verdict(models: [string, Results['report']['models'][string]][]): string {
  const by = (name: string) => models.find(([n]) => n === name)?.[1].test['NDCG@10']?.mean;
  const ranked = [...models].sort(
    (a, b) => (b[1].test['NDCG@10']?.mean ?? 0) - (a[1].test['NDCG@10']?.mean ?? 0),
  );
  if (!ranked.length) return '';
  const [best, x] = ranked[0];
  const gru = by('gru');
  const bestText = `Best by NDCG@10: ${best} (${x.test['NDCG@10'].mean.toFixed(4)}).`;
  if (gru === undefined || best === 'gru') return bestText;
  const rank = ranked.findIndex(([n]) => n === 'gru') + 1;
  // only say "a simple baseline wins" when the best row has no neural part
  const why = best.includes('gru') ? '' : ': on this small data set a simple baseline wins';
  return `${bestText} The GRU alone at the shipped settings scores ${gru.toFixed(4)}, rank ${rank} of ${ranked.length}${why}.`;
}

/**
 * The replay table: what a held-out visitor is served event by event (the library's own
 * code path), the untouched pretrained model and the baselines on the same positions.
 */
export function renderReplay(replay: ReplayResults): void {
  const r = replay.report;
  const rows = Object.entries(r.models);
  const best = Math.max(...rows.map(([, x]) => x.test['NDCG@10'].mean));
  const ranges = Object.keys(rows[0]?.[1].ranges ?? {});
  $<HTMLTableElement>('#replay').tHead?.rows[0].replaceChildren(
    ...[
      'scorer',
      'what it is',
      'HR@10',
      'NDCG@10',
      ...ranges.map((g) => `NDCG@10, events ${g}`),
      'update (median)',
    ].map((t) => h('th', { scope: 'col' }, t)),
  );
  $<HTMLTableElement>('#replay').tBodies[0].replaceChildren(
    ...rows.map(([name, x]) =>
      h(
        'tr',
        { 'data-model': name },
        h('th', { scope: 'row' }, name),
        h('td', { class: 'params' }, x.help),
        h(
          'td',
          { class: 'num' },
          `${x.test['HR@10'].mean.toFixed(4)} ± ${x.test['HR@10'].se.toFixed(4)}`,
        ),
        h(
          'td',
          { class: `num${x.test['NDCG@10'].mean === best ? ' best' : ''}` },
          `${x.test['NDCG@10'].mean.toFixed(4)} ± ${x.test['NDCG@10'].se.toFixed(4)}`,
        ),
        ...ranges.map((g) => h('td', { class: 'num' }, x.ranges[g]['NDCG@10'].mean.toFixed(4))),
        h(
          'td',
          { class: 'num' },
          x.updates ? `${(x.updates.medianSeconds * 1000).toFixed(0)} ms` : '–',
        ),
      ),
    ),
  );
  const pair = (a: string, b: string) => {
    const p = r.paired.find((q) => q.a === a && q.b === b)?.metrics['NDCG@10'];
    return p ? `${p.mean >= 0 ? '+' : ''}${p.mean.toFixed(4)} ± ${p.se.toFixed(4)}` : 'n/a';
  };
  $('#replay-note').textContent =
    `${fmtInt(r.users)} held-out MovieLens users replayed event by event (${fmtInt(r.positions)} positions): ` +
    'each next rating is scored before it is revealed, with what the library would serve at that moment. ' +
    `± is the standard error clustered by user. Paired NDCG@10 on the same positions: served − pretrained ${pair('served', 'pretrained')}, ` +
    `served − sr+itemknn ${pair('served', 'sr+itemknn')}, fine-tuned GRU − untouched GRU ${pair('finetuned', 'pretrained')}. ` +
    `Written by: ${replay.command} (${replay.generatedAt.slice(0, 10)}).`;
}
