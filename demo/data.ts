// The demo's data files (demo/assets/, written by scripts/demo-data.ts): the catalog,
// the held-back visitors, the other users' histories the baselines are fitted on, and
// the offline results table.

export interface Movie {
  id: string;
  title: string;
  year: number | null;
  genres: string[];
  /** Ratings in the (filtered) MovieLens log. */
  popularity: number;
  /** Position in the catalog file = dense index of sessions.bin. */
  index: number;
}

export interface Catalog {
  movies: Movie[];
  byId: Map<string, Movie>;
  genres: string[];
}

export interface Visitor {
  user: number;
  history: string[];
}

/** CSR sequences over catalog indices (the shape the library's baselines take). */
export interface TrainingSequences {
  items: Int32Array;
  offsets: Int32Array;
  numItems: number;
  users: number;
}

export interface ModelReport {
  label: string;
  params: Record<string, number>;
  fit: string;
  fitSeconds: number;
  test: Record<string, { mean: number; se: number }>;
  valid: Record<string, { mean: number; se: number }>;
}

export interface Results {
  command: string;
  generatedAt: string;
  report: {
    protocol: string;
    k: number;
    fit: string;
    counts: Record<string, number>;
    models: Record<string, ModelReport>;
  };
}

async function fetchOk(path: string): Promise<Response> {
  const r = await fetch(new URL(path, location.href));
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r;
}

export async function loadCatalog(): Promise<Catalog> {
  const raw = (await (await fetchOk('./assets/catalog.json')).json()) as {
    genres: string[];
    items: [number, string, number | null, number[], number][];
  };
  const movies = raw.items.map(([id, title, year, genres, popularity], index) => ({
    id: String(id),
    title,
    year,
    genres: genres.map((g) => raw.genres[g]),
    popularity,
    index,
  }));
  return { movies, byId: new Map(movies.map((m) => [m.id, m])), genres: raw.genres };
}

export async function loadVisitors(): Promise<Visitor[]> {
  const raw = (await (await fetchOk('./assets/visitors.json')).json()) as {
    visitors: { user: number; history: number[] }[];
  };
  return raw.visitors.map((v) => ({ user: v.user, history: v.history.map(String) }));
}

export async function loadSequences(): Promise<TrainingSequences> {
  const buf = await (await fetchOk('./assets/sessions.bin')).arrayBuffer();
  const dv = new DataView(buf);
  const magic = String.fromCharCode(...new Uint8Array(buf, 0, 4));
  if (magic !== 'LRSQ') throw new Error('sessions.bin: bad magic');
  const users = dv.getUint32(4, true);
  const total = dv.getUint32(8, true);
  const numItems = dv.getUint32(12, true);
  const offsets = new Int32Array(users + 1);
  for (let s = 0; s <= users; s++) offsets[s] = dv.getUint32(16 + 4 * s, true);
  const items = new Int32Array(total);
  const base = 16 + 4 * (users + 1);
  for (let j = 0; j < total; j++) items[j] = dv.getUint16(base + 2 * j, true);
  return { items, offsets, numItems, users };
}

export async function loadResults(): Promise<Results> {
  return (await (await fetchOk('./assets/results.json')).json()) as Results;
}

/** The replay protocol's report (`localrec eval --protocol replay --json`), as shipped in assets. */
export interface ReplayResults {
  command: string;
  generatedAt: string;
  report: {
    users: number;
    positions: number;
    split: string;
    models: Record<
      string,
      {
        help: string;
        test: Record<string, { mean: number; se: number }>;
        ranges: Record<string, Record<string, { mean: number; se: number }>>;
        updates?: { count: number; medianSeconds: number; p90Seconds: number; backend: string };
      }
    >;
    paired: { a: string; b: string; metrics: Record<string, { mean: number; se: number }> }[];
  };
}

export async function loadReplay(): Promise<ReplayResults> {
  return (await (await fetchOk('./assets/replay.json')).json()) as ReplayResults;
}
