// Contexts live from the first access phase to the later of log and connector end; the sweep removes orphans.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContextStore } from '../../plugins/core/context/request-context-store';

const options = { orphanAfterMs: 1000, maxLifetimeMs: 10_000, sweepEveryMs: 60_000 };

describe('RequestContextStore', () => {
  it('gives unguessable, unique ids', () => {
    const store = new RequestContextStore(options);
    const ids = new Set(Array.from({ length: 1000 }, () => store.create(Buffer.alloc(0)).id));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/); // 128 bits, base64url
    store.close();
  });

  it('deletes a context once both the log phase and the connector are done, in either order', () => {
    const store = new RequestContextStore(options);
    const first = store.create(Buffer.alloc(0));
    first.inFlight = true;
    store.markLogged(first.id);
    assert.ok(store.get(first.id), 'still streaming: kept');
    store.markDone(first.id);
    assert.equal(store.get(first.id), undefined);

    const second = store.create(Buffer.alloc(0));
    second.inFlight = true;
    store.markDone(second.id);
    assert.ok(store.get(second.id));
    store.markLogged(second.id);
    assert.equal(store.size, 0);
    store.close();
  });

  it('sweeps orphans and over-age contexts, never a young in-flight one, and tells their owners', () => {
    const swept: string[] = [];
    const store = new RequestContextStore(options, (context) => swept.push(context.id));
    const orphan = store.create(Buffer.alloc(0), 0);
    const streaming = store.create(Buffer.alloc(0), 0);
    streaming.inFlight = true;
    const stuck = store.create(Buffer.alloc(0), -20_000);
    stuck.inFlight = true;
    const fresh = store.create(Buffer.alloc(0), 4500);
    assert.equal(store.sweep(5000), 2);
    assert.deepEqual(swept.sort(), [orphan.id, stuck.id].sort());
    assert.ok(store.get(streaming.id) && store.get(fresh.id));
    store.close();
  });
});
