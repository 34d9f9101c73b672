// Fixed limit windows aligned to UTC: every node computes the same window for the same instant.
import type { LimitWindow } from './config';

const FIXED_LENGTH_MS: Record<Exclude<LimitWindow, 'month'>, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

export interface WindowBounds {
  startMs: number;
  endMs: number;
}

/** The window containing `nowMs`; a month runs from the 1st 00:00 UTC to the next 1st. */
export function windowBounds(window: LimitWindow, nowMs: number): WindowBounds {
  if (window === 'month') {
    const now = new Date(nowMs);
    const startMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const endMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    return { startMs, endMs };
  }
  const length = FIXED_LENGTH_MS[window];
  const startMs = Math.floor(nowMs / length) * length;
  return { startMs, endMs: startMs + length };
}
