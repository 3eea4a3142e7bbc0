import { DEFAULT_SESSION_GAP_MS, sessionise } from '../events/sessionise';
import {
  EVENT_LIMITS,
  type JsonValue,
  type NormalizedEvent,
  type TrackEvent,
} from '../events/types';
import { findNonJson, isPlainObject, validateEvent, validateEvents } from '../events/validate';
import { ChangeChannel, type ChangeListener } from '../store/broadcast';
import { openAdapter } from '../store/open';
import { DEFAULT_RETENTION } from '../store/retention';
import { META_CATALOG_FINGERPRINT, META_CONSENT, SCHEMA_VERSION } from '../store/schema';
import type {
  CatalogItem,
  CheckpointRecord,
  EventRecord,
  RetentionPolicy,
  StorageAdapter,
} from '../store/types';
import { invalidInput as invalid, LocalRecError } from './errors';
import type {
  Checkpoint,
  CheckpointInput,
  Consent,
  EventsAfter,
  ExportedData,
  ExportedEvent,
  LocalRecStore,
  ReadSequencesOptions,
  SessionData,
  StoredEvent,
  StoreOptions,
  StoreStats,
} from './store-types';

const CONSENTS: readonly Consent[] = ['granted', 'denied', 'pending'];
const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;
const CATALOG_KEYS = new Set(['id', 'title', 'attributes']);
const CATALOG_TITLE_MAX = 1024;
const CATALOG_ATTRIBUTES_MAX_CHARS = 16_384;
const CHECKPOINT_NAME_MAX = 128;
/** Settings live in the meta store under this prefix, apart from its own keys. */
const SETTING_PREFIX = 'setting:';

function isConsent(value: unknown): value is Consent {
  return typeof value === 'string' && (CONSENTS as readonly string[]).includes(value);
}

function checkPositive(value: unknown, field: string, integer: boolean): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw invalid(field, `must be a positive ${integer ? 'integer' : 'number'} or Infinity`);
  }
  return value;
}

function checkOptions(options: unknown): asserts options is StoreOptions {
  if (!isPlainObject(options)) throw invalid('options', 'must be an object');
  const o = options as StoreOptions;
  if (
    o.namespace !== undefined &&
    (typeof o.namespace !== 'string' || !NAMESPACE.test(o.namespace))
  ) {
    throw invalid('namespace', 'must be 1-64 characters of A-Z a-z 0-9 _ . -');
  }
  if (o.consent !== undefined && !isConsent(o.consent))
    throw invalid('consent', `must be one of ${CONSENTS.join(', ')}`);
  if (o.sessionGapMs !== undefined) checkPositive(o.sessionGapMs, 'sessionGapMs', false);
  if (o.retention !== undefined) {
    if (!isPlainObject(o.retention)) throw invalid('retention', 'must be an object');
    if (o.retention.maxEvents !== undefined)
      checkPositive(o.retention.maxEvents, 'retention.maxEvents', true);
    if (o.retention.maxAgeDays !== undefined)
      checkPositive(o.retention.maxAgeDays, 'retention.maxAgeDays', false);
  }
  if (o.fallback !== undefined && o.fallback !== 'memory' && o.fallback !== 'error') {
    throw invalid('fallback', "must be 'memory' or 'error'");
  }
}

/** The Global Privacy Control signal, read when called (never at import). */
function globalPrivacyControl(): boolean {
  try {
    const nav = (globalThis as { navigator?: { globalPrivacyControl?: unknown } }).navigator;
    return nav?.globalPrivacyControl === true;
  } catch {
    return false;
  }
}

/** Catalogues `validateCatalog` returned: setCatalog does not check them twice. */
const VALIDATED = new WeakSet<readonly CatalogItem[]>();

/**
 * A fingerprint of a catalogue (two 32-bit FNV-1a hashes of its JSON, and its length):
 * equal catalogues give equal fingerprints; different ones practically never do.
 */
export function catalogFingerprint(items: readonly CatalogItem[]): string {
  const json = JSON.stringify(items);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ json.length;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return `${json.length}:${a.toString(16)}:${b.toString(16)}`;
}

/** The catalogue as the store keeps it; INVALID_INPUT (field `items[i]…`) otherwise. */
export function validateCatalog(items: unknown): CatalogItem[] {
  const valid = checkCatalog(items);
  VALIDATED.add(valid);
  return valid;
}

function checkCatalog(items: unknown): CatalogItem[] {
  if (!Array.isArray(items)) throw invalid('items', 'must be an array');
  const seen = new Set<string>();
  return items.map((item: unknown, i) => {
    const p = `items[${i}]`;
    if (!isPlainObject(item)) throw invalid(p, 'must be a plain object', i);
    for (const key of Object.keys(item))
      if (!CATALOG_KEYS.has(key)) throw invalid(`${p}.${key}`, 'unknown field', i);
    const { id, title, attributes } = item;
    if (typeof id !== 'string' || id.length === 0 || id.length > EVENT_LIMITS.itemIdMaxLength) {
      throw invalid(
        `${p}.id`,
        `must be a string of 1-${EVENT_LIMITS.itemIdMaxLength} characters`,
        i,
      );
    }
    if (seen.has(id)) throw invalid(`${p}.id`, `duplicate id ${JSON.stringify(id)}`, i);
    seen.add(id);
    const out: CatalogItem = { id };
    if (title !== undefined) {
      if (typeof title !== 'string' || title.length > CATALOG_TITLE_MAX) {
        throw invalid(
          `${p}.title`,
          `must be a string of at most ${CATALOG_TITLE_MAX} characters`,
          i,
        );
      }
      out.title = title;
    }
    if (attributes !== undefined) {
      if (!isPlainObject(attributes)) throw invalid(`${p}.attributes`, 'must be a plain object', i);
      const bad = findNonJson(attributes, `${p}.attributes`, 1, 8);
      if (bad !== undefined) throw invalid(bad, 'must be JSON', i);
      const json = JSON.stringify(attributes);
      if (json.length > CATALOG_ATTRIBUTES_MAX_CHARS) {
        throw invalid(
          `${p}.attributes`,
          `larger than ${CATALOG_ATTRIBUTES_MAX_CHARS} characters as JSON`,
          i,
        );
      }
      out.attributes = JSON.parse(json) as { [key: string]: JsonValue };
    }
    return out;
  });
}

function isArrayBuffer(value: unknown): value is ArrayBuffer {
  // Not `instanceof`: buffers structured-cloned from another realm (fake-indexeddb,
  // iframes) have another ArrayBuffer constructor.
  return Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

function checkCheckpointName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > CHECKPOINT_NAME_MAX) {
    throw invalid('name', `must be a string of 1-${CHECKPOINT_NAME_MAX} characters`);
  }
  return name;
}

/** A stored row is usable when it has the shape a write gives it. */
function rowIsValid(e: EventRecord, numItems: number): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.t === 'number' &&
    Number.isFinite(e.t) &&
    Number.isInteger(e.item) &&
    e.item >= 0 &&
    e.item < numItems &&
    typeof e.type === 'string' &&
    (e.session === undefined || typeof e.session === 'string')
  );
}

/** What a forgotten store reads as, without opening (and so re-creating) the database. */
const FORGOTTEN: Pick<
  StorageAdapter,
  | 'snapshot'
  | 'readAfter'
  | 'getCatalog'
  | 'getCheckpoint'
  | 'hasCheckpoint'
  | 'listCheckpoints'
  | 'deleteCheckpoint'
  | 'getMeta'
  | 'dump'
  | 'stats'
> = {
  snapshot: async () => ({ events: [], vocabulary: [] }),
  readAfter: async () => ({ events: [], vocabulary: [], oldestId: null, lastId: null }),
  getCatalog: async () => [],
  getCheckpoint: async () => undefined,
  hasCheckpoint: async () => false,
  listCheckpoints: async () => [],
  deleteCheckpoint: async () => undefined,
  getMeta: async () => undefined,
  dump: async () => ({ events: [], vocabulary: [], catalog: [], checkpoints: [], meta: {} }),
  stats: async () => ({
    events: 0,
    items: 0,
    catalogItems: 0,
    checkpoints: 0,
    bytesEstimate: 0,
    oldestTimestamp: null,
    newestTimestamp: null,
  }),
};

class Store implements LocalRecStore {
  private closed = false;
  /**
   * After forget(): the database is gone and reads answer empty without re-creating it;
   * the next write (or another tab's) creates it again.
   */
  private forgotten = false;
  private forgetting: Promise<void> | null = null;
  /** Adapter calls in progress (forget waits for them). */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    readonly namespace: string,
    private readonly adapter: StorageAdapter,
    private currentConsent: Consent,
    private readonly retention: RetentionPolicy,
    private readonly sessionGapMs: number,
    private readonly channel: ChangeChannel | null,
    private readonly now: () => number,
  ) {
    channel?.subscribe((change, origin) => {
      if (origin !== 'remote') return;
      // Another tab changed the consent: follow it (it is persisted there already).
      if (change.kind === 'consent' && isConsent(change.consent))
        this.currentConsent = change.consent;
      // Another tab deleted the database, or wrote to (and so re-created) it.
      if (change.kind === 'forget') this.forgotten = true;
      else if (change.kind === 'events' || change.kind === 'catalog') this.forgotten = false;
    });
  }

  get persistent(): boolean {
    return this.adapter.persistent;
  }

  private check(): void {
    if (this.closed) throw new LocalRecError('DB_CLOSED', 'the store was closed');
  }

  /**
   * Runs a read: against the adapter, or against nothing (empty answers) while the store
   * is forgotten. Registered as running at once, so a forget() called after it waits for
   * it; one called before it runs first.
   */
  private reading<T>(body: (adapter: typeof FORGOTTEN) => Promise<T>): Promise<T> {
    return this.run(() => body(this.forgotten ? FORGOTTEN : this.adapter));
  }

  /** Runs a write (which re-creates the database after a forget). */
  private writing<T>(body: (adapter: StorageAdapter) => Promise<T>): Promise<T> {
    return this.run(() => {
      this.forgotten = false;
      return body(this.adapter);
    });
  }

  private run<T>(body: () => Promise<T>): Promise<T> {
    const op = (async () => {
      while (this.forgetting) await this.forgetting.catch(() => undefined);
      this.check();
      return body();
    })();
    this.running.add(op);
    const done = () => this.running.delete(op);
    op.then(done, done);
    return op;
  }

  private requireConsent(): void {
    if (this.currentConsent !== 'granted') {
      throw new LocalRecError(
        'CONSENT_REQUIRED',
        `consent is '${this.currentConsent}': nothing was recorded (call setConsent('granted') after the visitor agrees)`,
        { details: { consent: this.currentConsent } },
      );
    }
  }

  /**
   * `now` is the clock the events were validated against: read once per call, so an
   * event on the retention edge is not accepted and then pruned by the same call.
   */
  private async write(events: NormalizedEvent[], now: number): Promise<void> {
    if (events.length === 0) return;
    await this.writing((b) => b.appendEvents(events, this.retention, now));
    let newest = Number.NEGATIVE_INFINITY;
    for (const e of events) if (e.timestamp > newest) newest = e.timestamp;
    this.channel?.announce({ kind: 'events', count: events.length, newestTimestamp: newest });
  }

  async track(event: TrackEvent): Promise<void> {
    this.check();
    // Validation first, so a bad call is reported as such even without consent.
    const now = this.now();
    const normalized = validateEvent(event, { now, maxAgeDays: this.retention.maxAgeDays });
    this.requireConsent();
    await this.write([normalized], now);
  }

  async trackMany(events: readonly TrackEvent[]): Promise<void> {
    this.check();
    const now = this.now();
    const normalized = validateEvents(events, now, this.retention.maxAgeDays);
    this.requireConsent();
    await this.write(normalized, now);
  }

  async readSequences(options: ReadSequencesOptions = {}): Promise<SessionData> {
    this.check();
    const gap =
      options.sessionGapMs === undefined
        ? this.sessionGapMs
        : checkPositive(options.sessionGapMs, 'sessionGapMs', false);
    if (options.types !== undefined && !Array.isArray(options.types))
      throw invalid('types', 'must be an array');
    const typeSet = options.types === undefined ? undefined : new Set(options.types);
    const { events, vocabulary } = await this.reading((b) => b.snapshot());
    const numItems = vocabulary.length;
    const n = events.length;
    const items = new Int32Array(n);
    const times = new Float64Array(n);
    const sessionIds: (string | undefined)[] = new Array(n);
    let k = 0;
    let skipped = 0;
    for (let j = 0; j < n; j++) {
      const e = events[j];
      if (!rowIsValid(e, numItems)) {
        skipped++;
        continue;
      }
      if (typeSet !== undefined && !typeSet.has(e.type)) continue;
      items[k] = e.item;
      times[k] = e.t;
      sessionIds[k] = e.session;
      k++;
    }
    sessionIds.length = k;
    const result = sessionise(
      {
        items: k === n ? items : items.slice(0, k),
        times: k === n ? times : times.slice(0, k),
        sessionIds,
        numItems,
      },
      gap,
    );
    return {
      sequences: result.sequences,
      itemIds: vocabulary,
      sessionIds: result.sessionIds,
      skipped,
    };
  }

  async readEventsAfter(afterId: number, vocabularyFrom: number): Promise<EventsAfter> {
    this.check();
    if (!Number.isInteger(afterId) || afterId < 0)
      throw invalid('afterId', 'must be an integer ≥ 0');
    if (!Number.isInteger(vocabularyFrom) || vocabularyFrom < 0)
      throw invalid('vocabularyFrom', 'must be an integer ≥ 0');
    const delta = await this.reading((b) => b.readAfter(afterId, vocabularyFrom));
    const numItems = vocabularyFrom + delta.vocabulary.length;
    const events: StoredEvent[] = [];
    let skipped = 0;
    for (const e of delta.events) {
      if (!rowIsValid(e, numItems) || typeof e.id !== 'number') {
        skipped++;
        continue;
      }
      const out: StoredEvent = { id: e.id, t: e.t, item: e.item, type: e.type };
      if (e.session !== undefined) out.session = e.session;
      events.push(out);
    }
    return {
      events,
      vocabulary: delta.vocabulary,
      oldestId: delta.oldestId,
      lastId: delta.lastId,
      skipped,
    };
  }

  async setCatalog(items: readonly CatalogItem[]): Promise<void> {
    this.check();
    const valid = VALIDATED.has(items) ? (items as CatalogItem[]) : validateCatalog(items);
    const fingerprint = catalogFingerprint(valid);
    const written = await this.writing(async (b) => {
      // The same catalogue as stored (a returning visitor's page): nothing to write.
      if ((await b.getMeta(META_CATALOG_FINGERPRINT)) === fingerprint) return false;
      await b.setCatalog(valid, fingerprint);
      return true;
    });
    if (written) this.channel?.announce({ kind: 'catalog', count: valid.length });
  }

  async getCatalog(): Promise<CatalogItem[]> {
    this.check();
    return this.reading((b) => b.getCatalog());
  }

  async putCheckpoint(name: string, checkpoint: CheckpointInput): Promise<void> {
    this.check();
    checkCheckpointName(name);
    if (!isPlainObject(checkpoint)) throw invalid('checkpoint', 'must be an object');
    if (!isArrayBuffer(checkpoint.data)) throw invalid('checkpoint.data', 'must be an ArrayBuffer');
    if (!isPlainObject(checkpoint.metadata))
      throw invalid('checkpoint.metadata', 'must be a plain object');
    const bad = findNonJson(checkpoint.metadata, 'checkpoint.metadata', 1, 32);
    if (bad !== undefined) throw invalid(bad, 'must be JSON');
    const record: CheckpointRecord = {
      name,
      metadata: checkpoint.metadata,
      data: checkpoint.data,
      savedAt: Date.now(),
      bytes: checkpoint.data.byteLength,
    };
    await this.writing((b) => b.putCheckpoint(record));
  }

  async getCheckpoint(name: string): Promise<Checkpoint | undefined> {
    this.check();
    checkCheckpointName(name);
    const rec = await this.reading((b) => b.getCheckpoint(name));
    if (rec === undefined) return undefined;
    // Damaged rows (truncated blobs, foreign writes) are reported, not handed on.
    if (
      !isPlainObject(rec) ||
      !isArrayBuffer(rec.data) ||
      !isPlainObject(rec.metadata) ||
      typeof rec.bytes !== 'number' ||
      rec.data.byteLength !== rec.bytes ||
      typeof rec.savedAt !== 'number'
    ) {
      throw new LocalRecError('MODEL_CORRUPT', `checkpoint ${JSON.stringify(name)} is damaged`, {
        details: { name },
      });
    }
    return {
      name: rec.name,
      metadata: rec.metadata,
      data: rec.data,
      savedAt: rec.savedAt,
      bytes: rec.bytes,
    };
  }

  async deleteCheckpoint(name: string): Promise<void> {
    this.check();
    checkCheckpointName(name);
    await this.reading((b) => b.deleteCheckpoint(name));
  }

  async getSetting(name: string): Promise<JsonValue | undefined> {
    this.check();
    checkCheckpointName(name);
    return (await this.reading((b) => b.getMeta(`${SETTING_PREFIX}${name}`))) as
      | JsonValue
      | undefined;
  }

  async putSetting(name: string, value: JsonValue): Promise<void> {
    this.check();
    checkCheckpointName(name);
    const bad = findNonJson(value, 'value', 0, 32);
    if (bad !== undefined) throw invalid(bad, 'must be JSON');
    await this.writing((b) => b.setMeta(`${SETTING_PREFIX}${name}`, value));
  }

  async hasCheckpoint(name: string): Promise<boolean> {
    this.check();
    checkCheckpointName(name);
    return this.reading((b) => b.hasCheckpoint(name));
  }

  async listCheckpoints() {
    this.check();
    return this.reading((b) => b.listCheckpoints());
  }

  consent(): Consent {
    return this.currentConsent;
  }

  async setConsent(consent: Consent): Promise<void> {
    this.check();
    if (!isConsent(consent)) throw invalid('consent', `must be one of ${CONSENTS.join(', ')}`);
    await this.writing((b) => b.setMeta(META_CONSENT, consent));
    this.currentConsent = consent;
    this.channel?.announce({ kind: 'consent', consent });
  }

  async exportData(): Promise<ExportedData> {
    this.check();
    const dump = await this.reading((b) => b.dump());
    const events: ExportedEvent[] = [];
    let skipped = 0;
    for (const e of dump.events) {
      if (!rowIsValid(e, dump.vocabulary.length)) {
        skipped++;
        continue;
      }
      const out: ExportedEvent = {
        itemId: dump.vocabulary[e.item],
        type: e.type,
        timestamp: e.t,
        isoTime: new Date(e.t).toISOString(),
      };
      if (e.session !== undefined) out.sessionId = e.session;
      if (e.props !== undefined) out.properties = e.props;
      events.push(out);
    }
    return {
      format: 'localrec-export',
      formatVersion: 1,
      exportedAt: new Date(this.now()).toISOString(),
      namespace: this.namespace,
      persistent: this.adapter.persistent,
      consent: this.currentConsent,
      schemaVersion: SCHEMA_VERSION,
      events,
      vocabulary: dump.vocabulary,
      catalog: dump.catalog,
      checkpoints: dump.checkpoints,
      meta: dump.meta,
      skippedRows: skipped,
    };
  }

  async forget(): Promise<void> {
    this.check();
    while (this.forgetting) await this.forgetting.catch(() => undefined);
    this.forgetting = (async () => {
      // Calls already running finish first (a delete under them would fail them with
      // DB_CLOSED); calls made meanwhile wait for the delete.
      await Promise.allSettled([...this.running]);
      await this.adapter.destroy();
      this.forgotten = true;
    })().finally(() => {
      this.forgetting = null;
    });
    await this.forgetting;
    this.channel?.announce({ kind: 'forget' });
  }

  async stats(): Promise<StoreStats> {
    this.check();
    const s = await this.reading((b) => b.stats());
    const out: StoreStats = {
      ...s,
      namespace: this.namespace,
      persistent: this.adapter.persistent,
      schemaVersion: SCHEMA_VERSION,
      consent: this.currentConsent,
    };
    if (this.adapter.fallbackReason !== undefined) out.fallbackReason = this.adapter.fallbackReason;
    return out;
  }

  subscribe(listener: ChangeListener): () => void {
    if (typeof listener !== 'function') throw invalid('listener', 'must be a function');
    if (this.channel === null) return () => undefined;
    return this.channel.subscribe(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.adapter.close();
    this.channel?.close();
  }
}

/**
 * Opens the interaction store of `namespace` (database `localrec:<namespace>`).
 *
 * Rejects with INVALID_INPUT (options), SCHEMA_TOO_NEW (written by a newer localrec;
 * left untouched), UPGRADE_BLOCKED (another tab holds an older version open), or
 * STORAGE_UNAVAILABLE (IndexedDB unusable and `fallback: 'error'`). Otherwise resolves,
 * on the in-memory fallback (`persistent: false`) when IndexedDB is unusable.
 *
 * Consent: while it is not `granted`, `track`/`trackMany` record nothing and reject
 * with CONSENT_REQUIRED (a rejection, not a silent no-op, so a site notices; sites that
 * track fire-and-forget should `.catch()` it).
 */
export async function createStore(options: StoreOptions = {}): Promise<LocalRecStore> {
  checkOptions(options);
  const namespace = options.namespace ?? 'default';
  const name = `localrec:${namespace}`;
  const retention: RetentionPolicy = { ...DEFAULT_RETENTION, ...options.retention };
  const adapter = await openAdapter({
    name,
    ...('indexedDB' in options ? { indexedDB: options.indexedDB } : {}),
    fallback: options.fallback,
    openAttempts: options.openAttempts,
    blockedTimeoutMs: options.blockedTimeoutMs,
    openTimeoutMs: options.openTimeoutMs,
  });
  let consent: Consent;
  try {
    if (options.consent !== undefined) {
      consent = options.consent;
      if ((await adapter.getMeta(META_CONSENT)) !== consent)
        await adapter.setMeta(META_CONSENT, consent);
    } else {
      const stored = await adapter.getMeta(META_CONSENT);
      // GPC is a default, not a choice: it is not persisted, so a later explicit
      // choice of the site (on the visitor's word) takes over.
      consent = isConsent(stored) ? stored : globalPrivacyControl() ? 'denied' : 'granted';
    }
  } catch (error) {
    adapter.close();
    throw error;
  }
  // Without broadcast the channel still tells this page's own listeners (the
  // Recommender's training trigger); it just never opens a BroadcastChannel.
  const channel =
    options.broadcast === false ? new ChangeChannel(name, null) : new ChangeChannel(name);
  return new Store(
    namespace,
    adapter,
    consent,
    retention,
    options.sessionGapMs ?? DEFAULT_SESSION_GAP_MS,
    channel,
    options.now ?? Date.now,
  );
}
