import { DAY_MS, type RetentionPolicy } from '../events/retention';

export { DAY_MS, DEFAULT_RETENTION } from '../events/retention';

/** Epoch ms before which events are pruned (exclusive), or -Infinity when disabled. */
export function ageCutoff(retention: RetentionPolicy, now: number): number {
  return Number.isFinite(retention.maxAgeDays)
    ? now - retention.maxAgeDays * DAY_MS
    : Number.NEGATIVE_INFINITY;
}
