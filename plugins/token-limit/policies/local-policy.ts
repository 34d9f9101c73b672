// Counters in this process's memory: exact on one node, the same semantics as the Redis script.
import type { CounterRequest, CounterSettlement, LimitPolicy, ReserveOutcome } from './limit-policy';

interface Counter {
  committed: number;
  reserved: number;
  reservations: Map<string, { amount: number; expiresAtMs: number }>;
  windowEndMs: number;
}

export class LocalPolicy implements LimitPolicy {
  private readonly counters = new Map<string, Counter>();
  private nextCleanupMs = 0;

  async reserve(requests: CounterRequest[], reservationId: string, ttlMs: number, nowMs: number): Promise<ReserveOutcome> {
    this.dropEndedWindows(nowMs);
    const counters = requests.map((request) => this.counter(request.key, request.windowEndMs));
    let refused = -1;
    requests.forEach((request, index) => {
      const counter = counters[index]!;
      if (refused === -1 && !fits(counter, request)) {
        // Only a refusal is worth the scan for reservations whose node never settled them.
        purgeExpired(counter, nowMs);
        if (!fits(counter, request)) refused = index;
      }
    });
    if (refused !== -1) return { admitted: false, refused, counters: counters.map((counter) => ({ used: counter.committed + counter.reserved })) };
    requests.forEach((request, index) => {
      const counter = counters[index]!;
      counter.reserved += request.amount;
      counter.reservations.set(reservationId, { amount: request.amount, expiresAtMs: nowMs + ttlMs });
    });
    return { admitted: true, counters: counters.map((counter) => ({ used: counter.committed + counter.reserved })) };
  }

  async settle(settlements: CounterSettlement[], reservationId: string): Promise<void> {
    for (const settlement of settlements) {
      const counter = this.counter(settlement.key, settlement.windowEndMs);
      const reservation = counter.reservations.get(reservationId);
      if (reservation) {
        counter.reserved -= reservation.amount;
        counter.reservations.delete(reservationId);
      }
      counter.committed += settlement.actual;
    }
  }

  /** Reservations not yet settled, over all counters (the connector's status endpoint shows it). */
  get reservationCount(): number {
    let count = 0;
    for (const counter of this.counters.values()) count += counter.reservations.size;
    return count;
  }

  private counter(key: string, windowEndMs: number): Counter {
    let counter = this.counters.get(key);
    if (!counter) this.counters.set(key, (counter = { committed: 0, reserved: 0, reservations: new Map(), windowEndMs }));
    return counter;
  }

  /** A window's counter is useless once it ended; drop those at most once a second. */
  private dropEndedWindows(nowMs: number): void {
    if (nowMs < this.nextCleanupMs) return;
    this.nextCleanupMs = nowMs + 1000;
    for (const [key, counter] of this.counters) if (counter.windowEndMs <= nowMs) this.counters.delete(key);
  }
}

/** Room for the amount; a request that reserves nothing (unknown price) still needs the budget not spent. */
function fits(counter: Counter, request: CounterRequest): boolean {
  const used = counter.committed + counter.reserved;
  return request.amount === 0 ? used < request.limit : used + request.amount <= request.limit;
}

function purgeExpired(counter: Counter, nowMs: number): void {
  for (const [id, reservation] of counter.reservations) {
    if (reservation.expiresAtMs > nowMs) continue;
    counter.reserved -= reservation.amount;
    counter.reservations.delete(id);
  }
}
