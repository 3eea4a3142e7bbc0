// Page-side helpers for the runtime specs, passed to page.evaluate as strings-free
// functions. Planted pattern: in every session containing 'i5', 'i17' follows it.
import type { Page } from 'playwright-core';

export async function waitForLib(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { libReady?: boolean }).libReady === true);
}

/** Tracks 60 sessions over 30 items with the planted pattern i5 → i17. */
export async function trackPlanted(
  page: Page,
  namespace: string,
  extra: Record<string, unknown> = {},
) {
  return page.evaluate(
    async ({ namespace, extra }) => {
      // biome-ignore lint/suspicious/noExplicitAny: page global
      const L = (window as any).LocalRec;
      const rec = await L.createRecommender({ namespace, training: { auto: false }, ...extra });
      // biome-ignore lint/suspicious/noExplicitAny: page global
      (window as any).rec = rec;
      const events = [];
      let t = Date.now() - 1e8;
      for (let s = 0; s < 60; s++) {
        for (let j = 0; j < 6; j++) {
          const x = `i${(s * 7 + j * 3) % 30}`;
          events.push({ itemId: x, type: 'view', sessionId: `s${s}`, timestamp: t++ });
          if (x === 'i5')
            events.push({ itemId: 'i17', type: 'view', sessionId: `s${s}`, timestamp: t++ });
        }
      }
      await rec.trackMany(events);
      return events.length;
    },
    { namespace, extra },
  );
}
