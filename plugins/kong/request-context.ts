// Kong glue for the request context: find this request's context, or create it from the body once.
import { GatewayError } from '../core/errors';
import type { RequestContext } from '../core/context/request-context-store';
import type { Pdk } from './pdk';
import { runtime } from './runtime';

/** The `kong.ctx.shared` key holding our request id: Kong keeps it per request, clients cannot set it. */
export const CONTEXT_ID_KEY = 'ai_request_context_id';

/**
 * The first of our plugins to run on a request reads the body (one `get_raw_body` for the whole
 * chain) and creates the context; the others find it through `kong.ctx.shared`.
 */
export async function joinRequestContext(pdk: Pdk): Promise<RequestContext> {
  const id = await pdk.sharedGet(CONTEXT_ID_KEY);
  if (id !== null) {
    const existing = runtime.contexts.get(id);
    if (existing) return existing;
    // Kong remembers an id this process does not: the server restarted between two plugins.
    throw new GatewayError('The AI gateway restarted while handling this request; retry it.', {
      status: 503,
      type: 'service_unavailable',
      code: 'request_context_lost',
      headers: { 'Retry-After': '1' },
    });
  }
  const body = await pdk.rawBody();
  const context = runtime.contexts.create(body ?? Buffer.alloc(0));
  await pdk.sharedSet(CONTEXT_ID_KEY, context.id);
  return context;
}

/** The context of this request, if one of our access phases created it (for the log phase). */
export async function findRequestContext(pdk: Pdk): Promise<RequestContext | null> {
  const id = await pdk.sharedGet(CONTEXT_ID_KEY);
  return id === null ? null : runtime.contexts.get(id) ?? null;
}
