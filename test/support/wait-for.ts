// Polls a condition until it holds, for tests waiting on processes and asynchronous settling.
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves once `check` returns true; a check that throws counts as "not yet". Fails after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
    await sleep(25);
  }
}
