// The localrec demo: a MovieLens movie shop. It uses the BUILT library, loaded from
// ./lib/ exactly as a site would (type-only imports from src/ vanish at build time).
import type * as LocalRecModule from '../src/index';
import { type Baselines, startBaselines } from './baselines';
import { createTrainingChart } from './chart';
import {
  type Catalog,
  loadCatalog,
  loadReplay,
  loadResults,
  loadSequences,
  loadVisitors,
  type Movie,
  type Visitor,
} from './data';
import { $, errorText, fmtBytes, fmtInt, h } from './dom';
import { renderReplay, renderResults } from './results';
import { movieCard, thumb } from './shop';

type Lib = typeof LocalRecModule;
type Recommender = Awaited<ReturnType<Lib['createRecommender']>>;
type Recommendation = LocalRecModule.Recommendation;

// Resolved against the page (not this bundled chunk, which lives in ./assets/).
const LIB = new URL('./lib/localrec.js', document.baseURI).href;
// The baselines and the protocol are their own entry (`localrec/eval`), loaded only by the
// baselines' worker: the page itself downloads just the core.
const EVAL_LIB = new URL('./lib/localrec-eval.js', document.baseURI).href;
const lib = (await import(/* @vite-ignore */ LIB)) as Lib;
$('#version').textContent = lib.version;

const MODE_KEY = 'localrec-demo:mode';
const PAGE = 24;

// ---- state -------------------------------------------------------------------------------
let catalog: Catalog;
let visitors: Visitor[] = [];
let baselines: Baselines | null = null;
let rec: Recommender;
let scratch = localStorage.getItem(MODE_KEY) === 'scratch';
/** The visitor's items, oldest first (mirrors the store; read back on start). */
let history: string[] = [];
let shown = PAGE;
let lastLists = new Map<string, string[]>();
const hits = new Map<string, number>();
let simSteps = 0;
let simulating = false;
let simRun: Promise<void> | null = null;

/** Stops a running simulation and waits until it has let go of the recommender. */
async function stopSimulation(): Promise<void> {
  simulating = false;
  await simRun;
}

/** Runs an action of a button; a failure is shown next to it, never thrown. */
async function guard(action: () => Promise<void>, where = '#status'): Promise<void> {
  try {
    await action();
  } catch (error) {
    $(where).textContent = `Failed: ${errorText(error)}`;
  }
}

const status = $('#status');
const chart = createTrainingChart($('#chart'));

function setState(state: string): void {
  document.body.dataset.state = state;
}

function title(id: string): string {
  const m = catalog.byId.get(id);
  return m ? `${m.title}${m.year ? ` (${m.year})` : ''}` : id;
}

// ---- the recommender -------------------------------------------------------------------

async function createRec(): Promise<Recommender> {
  const r = await lib.createRecommender({
    namespace: scratch ? 'demo-scratch' : 'demo-pretrained',
    catalog: [...catalog.movies]
      .sort((a, b) => b.popularity - a.popularity)
      .map((m) => ({
        id: m.id,
        title: m.title,
        attributes: { year: m.year, genres: m.genres },
      })),
    pretrained: scratch ? undefined : new URL('./assets/model.bin', location.href).href,
    training: { minNewEvents: 5 },
  });
  r.on('progress', (p) => {
    chart.add(p);
    $('#train-summary').textContent =
      `Training (${p.backend}): epoch ${p.epoch + 1}, step ${p.step}/${p.stepsPerEpoch}, ` +
      `loss ${p.loss.toFixed(3)}, ${fmtInt(p.eventsPerSecond)} events/s`;
  });
  r.on('trained', (s) => {
    lastTrainSummary = s;
    chart.breakLine();
    $('#train-summary').textContent =
      `Last run (${s.mode === 'continue' ? 'fine-tuning' : 'from scratch'}): ${fmtInt(s.events)} events × ${s.epochs} epoch${s.epochs === 1 ? '' : 's'} ` +
      `of ${s.sessions} session(s) in ${s.seconds.toFixed(2)} s = ${fmtInt(s.eventsPerSecond)} events/s ` +
      `on ${s.backend}, loss ${s.loss.toFixed(3)}${s.fellBackFrom.length ? `, fell back from ${s.fellBackFrom.join(', ')}` : ''}.`;
    void refreshPrivacy();
  });
  r.on('model', (m) => {
    // Trained here: show what this update changed in the visitor's list.
    if (m.source === 'device') beforeUpdate ??= lastShown;
    void refreshStatus();
    scheduleRefresh();
  });
  r.on('error', (e) => {
    $('#train-summary').textContent = `Engine: ${errorText(e)}`;
  });
  return r;
}

async function readHistory(): Promise<string[]> {
  const data = await rec.exportData();
  return data.events.map((e) => e.itemId);
}

async function refreshStatus(): Promise<void> {
  const s = await rec.status();
  const model = s.model
    ? `${s.model.source === 'pretrained' ? 'pretrained' : 'device-trained'} GRU (${fmtInt(s.model.numItems)} items, hidden ${s.model.hiddenSize}, ${fmtInt(s.model.trainedEvents)} training events)`
    : 'no GRU yet: baselines answer (cold start)';
  status.textContent = `${scratch ? 'From scratch' : 'Pretrained'} · model: ${model} · backend: ${s.backend?.backend ?? '…'} (${s.runsIn})${s.persistent ? '' : ' · storage in memory only'}`;
  status.dataset.model = s.model?.source ?? 'none';
  if (s.backend) {
    $('#backend-reason').textContent =
      `${s.backend.reason} · this page is ${globalThis.crossOriginIsolated ? '' : 'not '}cross-origin isolated ` +
      `(COOP/COEP, what WASM threads need) · ${navigator.hardwareConcurrency} logical cores`;
    const body = $<HTMLTableElement>('#trials').tBodies[0];
    body.replaceChildren(
      ...s.backend.trials.map((t) =>
        h(
          'tr',
          {},
          h('td', {}, t.name),
          h('td', {}, t.ok ? 'yes' : 'no'),
          h('td', { class: 'num' }, t.stepMs === undefined ? '–' : t.stepMs.toFixed(1)),
          h(
            'td',
            { class: 'notes' },
            [
              t.name === s.backend?.backend ? 'in use' : '',
              t.software ? 'software (CPU emulation)' : '',
              t.error ?? '',
            ]
              .filter(Boolean)
              .join(' · '),
          ),
        ),
      ),
    );
  }
}

// ---- the shop ------------------------------------------------------------------------------

function filtered(): Movie[] {
  const q = $<HTMLInputElement>('#q').value.trim().toLowerCase();
  const genre = $<HTMLSelectElement>('#genre').value;
  const sort = $<HTMLSelectElement>('#sort').value;
  const list = catalog.movies.filter(
    (m) =>
      (!genre || m.genres.includes(genre)) &&
      (!q || m.title.toLowerCase().includes(q) || String(m.year) === q),
  );
  if (sort === 'title') list.sort((a, b) => a.title.localeCompare(b.title));
  else if (sort === 'new')
    list.sort((a, b) => (b.year ?? 0) - (a.year ?? 0) || b.popularity - a.popularity);
  else list.sort((a, b) => b.popularity - a.popularity);
  return list;
}

function renderGrid(): void {
  const list = filtered();
  const seen = new Set(history);
  $('#grid').replaceChildren(
    ...list.slice(0, shown).map((m) => h('li', {}, movieCard(m, seen.has(m.id), select))),
  );
  $('#count').textContent =
    `${fmtInt(list.length)} movies${list.length > shown ? `, showing ${shown}` : ''}`;
  const more = $<HTMLButtonElement>('#more');
  more.hidden = list.length <= shown;
  more.textContent = `Show more (${fmtInt(list.length - shown)} left)`;
}

async function select(id: string, options: { scroll?: boolean } = {}): Promise<void> {
  showItem(id);
  if (options.scroll !== false && window.matchMedia('(max-width: 56rem)').matches) {
    $('#item').scrollIntoView({ block: 'start', behavior: 'smooth' });
  }
  await record({ itemId: id, type: 'view' });
}

async function record(event: { itemId: string; type: 'view' | 'purchase' }): Promise<void> {
  try {
    await rec.track(event);
    history.push(event.itemId);
    $('#privacy-status').textContent = '';
  } catch (error) {
    $('#privacy-status').textContent =
      (error as { code?: string }).code === 'CONSENT_REQUIRED'
        ? 'Not recorded: recording is switched off (consent).'
        : `Not recorded: ${errorText(error)}`;
  }
  scheduleRefresh();
}

function showItem(id: string): void {
  const m = catalog.byId.get(id);
  if (!m) return;
  const section = $('#item');
  section.hidden = false;
  const similar = h('ol', { class: 'recs compact', 'aria-label': 'More like this' });
  const buy = h('button', { type: 'button', class: 'buy' }, 'Buy');
  buy.addEventListener('click', async () => {
    await record({ itemId: id, type: 'purchase' });
    buy.textContent = 'Bought ✓';
    buy.disabled = true;
  });
  $('#item-body').replaceChildren(
    h(
      'div',
      { class: 'item-head' },
      thumb(m, 'big'),
      h(
        'div',
        {},
        h('h3', {}, m.title),
        h('p', { class: 'muted' }, [m.year ?? 'year unknown', m.genres.join(', ')].join(' · ')),
        h('p', { class: 'muted' }, `Rated by ${fmtInt(m.popularity)} MovieLens users`),
        buy,
      ),
    ),
    h('h4', {}, 'Often next after it'),
    similar,
  );
  rec
    .similar(id, 5, { exclude: history })
    .then((list) => similar.replaceChildren(...list.map((r) => recItem(r, true))))
    .catch((error) => similar.replaceChildren(h('li', {}, errorText(error))));
}

function recItem(r: Recommendation, compact = false): HTMLLIElement {
  const why =
    r.explanation?.text ??
    (r.scorer === 'pop'
      ? 'Popular in your history'
      : r.scorer === 'catalog'
        ? 'From the catalog (no signal yet)'
        : '');
  return h(
    'li',
    { 'data-scorer': r.scorer, 'data-id': r.itemId },
    h(
      'button',
      { type: 'button', class: 'rec', onclick: () => void select(r.itemId) },
      h('span', { class: 'rec-title' }, title(r.itemId)),
      !compact &&
        h(
          'span',
          { class: 'rec-why' },
          h('span', { class: `badge ${r.scorer}` }, r.scorer),
          ' ',
          why,
        ),
    ),
  );
}

// ---- recommendations and the comparison ----------------------------------------------------

let refreshing: Promise<void> | null = null;
let dirty = false;

function scheduleRefresh(): void {
  if (refreshing) {
    dirty = true;
    return;
  }
  refreshing = refresh()
    .catch((error) => {
      $('#recs-note').textContent = `Could not recommend: ${errorText(error)}`;
    })
    .finally(() => {
      refreshing = null;
      if (dirty) {
        dirty = false;
        scheduleRefresh();
      }
    });
}

/** The top-10 on screen, and the one before the last on-device update (to show the change). */
let lastShown: string[] = [];
let beforeUpdate: string[] | null = null;
let lastTrainSummary: { events: number; seconds: number } | null = null;

function showUpdateChange(before: string[], after: string[]): void {
  const added = after.filter((id) => !before.includes(id));
  const dropped = before.filter((id) => !after.includes(id));
  const s = lastTrainSummary;
  const what = s
    ? `Fine-tuned on ${fmtInt(s.events)} of your events in ${(s.seconds * 1000).toFixed(0)} ms: `
    : 'Fine-tuned here: ';
  $('#train-change').textContent = added.length
    ? `${what}${added.length} of your top 10 changed (in: ${added.map(title).join(', ')}; out: ${dropped.map(title).join(', ')}).`
    : `${what}your top 10 kept the same movies${after.join() === before.join() ? '' : ' (order changed)'}.`;
}

async function refresh(): Promise<void> {
  const seen = [...new Set(history)];
  const recs = await rec.recommend({ k: 10, exclude: seen });
  const ids = recs.map((r) => r.itemId);
  if (beforeUpdate) {
    // The same history on both sides (items seen since drop out of both): only the update moved it.
    const before = beforeUpdate.filter((id) => !seen.includes(id));
    if (before.length) showUpdateChange(before, ids.slice(0, before.length));
    beforeUpdate = null;
  }
  lastShown = ids;
  const last = (await rec.status()).lastTraining;
  if (last && !last.trained && last.reason) {
    $('#train-change').textContent =
      `No on-device update after your last ${fmtInt(last.sessions)} session(s): ${last.reason}. ` +
      'Why: see the replay table under "How well, offline" (fine-tuning on one visitor served held-out visitors worse).';
  }
  $('#recs-list').replaceChildren(...recs.map((r) => recItem(r)));
  const scorers = [...new Set(recs.map((r) => r.scorer))].join(', ');
  $('#recs-note').textContent = history.length
    ? `From ${scorers} on your ${history.length} interaction${history.length === 1 ? '' : 's'}.`
    : `No history yet: from ${scorers}. Click a movie.`;
  $('#recs').dataset.scorers = scorers;
  $('#recs').dataset.events = String(history.length);
  const lists = new Map<string, string[]>([['gru', recs.map((r) => r.itemId)]]);
  const prefix = Int32Array.from(
    history.map((id) => catalog.byId.get(id)?.index ?? -1).filter((i) => i >= 0),
  );
  if (baselines)
    for (const [key, ids] of await baselines.top(prefix, 10, seen)) lists.set(key, ids);
  lastLists = lists;
  renderColumns(recs);
  renderGrid();
  await refreshPrivacy();
}

function renderColumns(recs: Recommendation[]): void {
  const columns = [
    {
      key: 'gru',
      name: 'recommend()',
      fit: scratch
        ? 'GRU trained on this device only (falls back to sr/pop before)'
        : 'GRU + SR + item-kNN pretrained on the other users (by default fine-tuning here keeps the pretrained weights)',
      ids: recs.map((r) => r.itemId),
      scorer: [...new Set(recs.map((r) => r.scorer))].join('+'),
    },
    ...(baselines?.list ?? []).map((b) => ({
      key: b.key,
      name: b.label,
      fit: b.fit,
      ids: lastLists.get(b.key) ?? [],
      scorer: b.key,
    })),
  ];
  $('#columns').replaceChildren(
    ...columns.map((c) =>
      h(
        'section',
        { class: 'column', 'data-key': c.key },
        h('h3', {}, c.name, ' ', h('span', { class: `badge ${c.scorer}` }, c.scorer)),
        h('p', { class: 'fit muted' }, c.fit),
        h(
          'ol',
          {},
          ...c.ids.map((id) =>
            h(
              'li',
              {},
              h(
                'button',
                { type: 'button', class: 'link', onclick: () => void select(id) },
                title(id),
              ),
            ),
          ),
        ),
        simSteps > 0 &&
          h(
            'p',
            { class: 'hits' },
            `Next click in this top-10: ${hits.get(c.key) ?? 0} of ${simSteps}`,
          ),
      ),
    ),
  );
}

// ---- privacy -------------------------------------------------------------------------------

async function refreshPrivacy(): Promise<void> {
  const s = await rec.stats();
  const rows: [string, string][] = [
    ['Events', fmtInt(s.events)],
    ['Distinct items', fmtInt(s.items)],
    ['Catalog entries', fmtInt(s.catalogItems)],
    ['Saved models and settings', fmtInt(s.checkpoints)],
    ['Size (estimate)', fmtBytes(s.bytesEstimate)],
    ['Oldest event', s.oldestTimestamp ? new Date(s.oldestTimestamp).toLocaleString() : '–'],
    ['Newest event', s.newestTimestamp ? new Date(s.newestTimestamp).toLocaleString() : '–'],
    [
      'Stored in',
      s.persistent ? `IndexedDB “localrec:${s.namespace}”` : 'memory only (lost on reload)',
    ],
    ['Consent', s.consent],
  ];
  $('#stats').replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  $('#stats').dataset.events = String(s.events);
  $<HTMLInputElement>('#consent').checked = s.consent === 'granted';
}

async function exportJson(): Promise<void> {
  const data = await rec.exportData();
  const url = URL.createObjectURL(
    new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }),
  );
  const a = h('a', { href: url, download: `localrec-${data.namespace}-export.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  $('#privacy-status').textContent = `Exported ${fmtInt(data.events.length)} events.`;
}

async function forgetAll(): Promise<void> {
  // When forget() resolves the recommender is empty and usable: it serves from the
  // pretrained model again, and the database comes back only when the visitor clicks.
  await rec.forget();
  history = [];
  hits.clear();
  simSteps = 0;
  $('#item').hidden = true;
  chart.clear();
  $('#privacy-status').textContent = 'Everything was deleted from this browser.';
  status.dataset.model = 'loading';
  void rec.warmUp().then(refreshStatus);
  scheduleRefresh();
}

// ---- simulate a held-back visitor -----------------------------------------------------------

async function simulate(): Promise<void> {
  const v = visitors[Number($<HTMLSelectElement>('#visitor').value)];
  if (!v) return;
  simulating = true;
  $<HTMLButtonElement>('#sim-start').disabled = true;
  $<HTMLButtonElement>('#sim-stop').disabled = false;
  try {
    if ($<HTMLInputElement>('#sim-clean').checked) await forgetAll();
    hits.clear();
    simSteps = 0;
    for (let i = 0; i < v.history.length && simulating; i++) {
      await settle();
      const next = v.history[i];
      // Score the lists that were on screen before this click.
      for (const [key, ids] of lastLists)
        if (ids.includes(next)) hits.set(key, (hits.get(key) ?? 0) + 1);
      simSteps++;
      $('#sim-status').textContent =
        `User ${v.user}, click ${i + 1} of ${v.history.length}: ${title(next)}${lastLists.get('gru')?.includes(next) ? ' — it was in recommend()’s top-10' : ''}`;
      await select(next, { scroll: false });
      await settle();
      await new Promise((r) => setTimeout(r, Number($<HTMLSelectElement>('#speed').value)));
    }
    $('#sim-status').textContent += simulating ? ' · done.' : ' · stopped.';
  } finally {
    simulating = false;
    $<HTMLButtonElement>('#sim-start').disabled = false;
    $<HTMLButtonElement>('#sim-stop').disabled = true;
  }
}

/** Waits until the panels show the latest history. */
async function settle(): Promise<void> {
  while (refreshing) await refreshing;
}

// ---- start -------------------------------------------------------------------------------

async function start(): Promise<void> {
  const [cat, vis] = await Promise.all([loadCatalog(), loadVisitors()]);
  catalog = cat;
  visitors = vis;
  loadResults()
    .then(renderResults)
    .catch((error) => {
      $('#offline-note').textContent = `No results file: ${errorText(error)}`;
    });
  loadReplay()
    .then(renderReplay)
    .catch((error) => {
      $('#replay-note').textContent = `No replay results file: ${errorText(error)}`;
    });
  const genre = $<HTMLSelectElement>('#genre');
  genre.append(...catalog.genres.map((g) => h('option', { value: g }, g)));
  $<HTMLSelectElement>('#visitor').replaceChildren(
    ...visitors.map((v, i) =>
      h('option', { value: i }, `MovieLens user ${v.user} · ${v.history.length} ratings`),
    ),
  );
  $<HTMLInputElement>('#scratch').checked = scratch;
  rec = await createRec();
  history = await readHistory();
  renderGrid();
  scheduleRefresh();
  // The baselines fit on 650 users' histories in about a second of CPU: in their own
  // worker, so the page and the library's engine start meanwhile.
  const seqs = await loadSequences();
  $('#fit-users').textContent = `${fmtInt(seqs.users)} other MovieLens users`;
  void startBaselines(
    EVAL_LIB,
    seqs,
    catalog.movies.map((m) => m.id),
  )
    .then((b) => {
      baselines = b;
      scheduleRefresh();
    })
    .catch((error) => {
      $('#offline-note').textContent = `Baselines unavailable: ${errorText(error)}`;
    });
  await rec.warmUp();
  await refreshStatus();
  await settle();
  scheduleRefresh();
  await settle();
  setState('ready');
}

$('#filters').addEventListener('submit', (e) => e.preventDefault());
for (const id of ['#q', '#genre', '#sort']) {
  $(id).addEventListener('input', () => {
    shown = PAGE;
    renderGrid();
  });
}
$('#more').addEventListener('click', () => {
  shown += PAGE;
  renderGrid();
});
$('#scratch').addEventListener('change', (e) => {
  const checked = (e.target as HTMLInputElement).checked;
  setState('loading');
  void guard(async () => {
    await stopSimulation();
    scratch = checked;
    localStorage.setItem(MODE_KEY, scratch ? 'scratch' : 'pretrained');
    rec.close();
    chart.clear();
    hits.clear();
    simSteps = 0;
    $('#item').hidden = true;
    rec = await createRec();
    history = await readHistory();
    scheduleRefresh();
    await rec.warmUp();
    await refreshStatus();
    await settle();
    setState('ready');
  });
});
$('#consent').addEventListener('change', (e) => {
  const granted = (e.target as HTMLInputElement).checked;
  void guard(async () => {
    await rec.setConsent(granted ? 'granted' : 'denied');
    await refreshPrivacy();
  }, '#privacy-status');
});
$('#export').addEventListener('click', () => void guard(exportJson, '#privacy-status'));
$('#forget').addEventListener('click', () => {
  void guard(async () => {
    await stopSimulation();
    await forgetAll();
  }, '#privacy-status');
});
$('#sim-start').addEventListener('click', () => {
  simRun ??= guard(simulate, '#sim-status').finally(() => {
    simRun = null;
  });
});
$('#sim-stop').addEventListener('click', () => {
  simulating = false;
});

start().catch((error) => {
  setState('error');
  status.textContent = `The demo could not start: ${errorText(error)}`;
});
