/**
 * Cross-tab announcements on a BroadcastChannel named like the database
 * (`localrec:<namespace>`). Tabs share the data through IndexedDB itself; the channel
 * only says "something changed" so a trainer in another tab can react without polling.
 * Where BroadcastChannel is missing (old Safari < 15.4) announcements are skipped.
 */
export type StoreChange =
  | { kind: 'events'; count: number; newestTimestamp: number }
  | { kind: 'catalog'; count: number }
  | { kind: 'consent'; consent: string }
  | { kind: 'forget' };

export interface StoreChangeMessage {
  source: 'localrec';
  version: 1;
  change: StoreChange;
}

export type ChangeListener = (change: StoreChange, origin: 'local' | 'remote') => void;

type ChannelCtor = new (name: string) => BroadcastChannel;

export class ChangeChannel {
  private channel: BroadcastChannel | null = null;
  private readonly listeners = new Set<ChangeListener>();
  private closed = false;

  constructor(
    private readonly name: string,
    /** `null`: local listeners only, never another tab (the store's `broadcast: false`). */
    private readonly Ctor: ChannelCtor | null | undefined = (
      globalThis as { BroadcastChannel?: ChannelCtor }
    ).BroadcastChannel,
  ) {}

  /** Opened lazily: a store that never writes or listens holds no channel. */
  private open(): BroadcastChannel | null {
    if (this.closed || !this.Ctor) return null;
    if (this.channel === null) {
      this.channel = new this.Ctor(this.name);
      // Node's BroadcastChannel keeps the process alive while it listens; a store that
      // was not closed must not hang a CLI or a test runner (browsers have no unref).
      (this.channel as { unref?: () => void }).unref?.();
      this.channel.onmessage = (event: MessageEvent) => {
        const msg = event.data as Partial<StoreChangeMessage> | null;
        if (msg?.source !== 'localrec' || msg.version !== 1 || typeof msg.change !== 'object')
          return;
        this.emit(msg.change as StoreChange, 'remote');
      };
    }
    return this.channel;
  }

  private emit(change: StoreChange, origin: 'local' | 'remote'): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change, origin);
      } catch (error) {
        // A failing listener must not break the write that announced the change.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Tells this tab's listeners and every other tab. */
  announce(change: StoreChange): void {
    this.emit(change, 'local');
    try {
      this.open()?.postMessage({
        source: 'localrec',
        version: 1,
        change,
      } satisfies StoreChangeMessage);
    } catch {
      // A closed channel or a page being unloaded: announcements are best effort.
    }
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    this.open();
    return () => {
      this.listeners.delete(listener);
    };
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.channel?.close();
    this.channel = null;
  }
}
