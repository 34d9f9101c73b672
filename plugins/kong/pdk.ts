// Typed view of the Kong PDK calls our plugins make, with values exactly as they arrive over msgpack-RPC.
import { Buffer } from 'node:buffer';

/**
 * The proxy object kong-pdk hands to a phase: every property path becomes one RPC
 * (`kong.request.getRawBody()` -> `kong.request.get_raw_body`). Untyped on purpose: this
 * module is the only place that touches it.
 */
export type KongBridge = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Header values as Kong sends them: a string, or a list when the header repeats. */
export type WireHeaders = Record<string, string | string[]>;

export interface KongConsumer {
  id: string;
  username: string | null;
  custom_id: string | null;
}

export interface KongCredential {
  id: string;
  consumer_id: string | null;
}

export interface KongEntity {
  id: string;
  name: string | null;
}

/** A route as `kong.router.get_route` returns it: the service is a foreign key `{ id }`. */
export interface KongRoute extends KongEntity {
  service: { id: string } | null;
}

/** A response header map for `kong.response.exit` / `set_headers`. */
export type HeaderMap = Record<string, string>;

/**
 * The PDK for one phase of one request. Every method is one RPC round trip to Kong, so callers
 * ask for what they need once (one raw body read, bulk header sets).
 * What Kong sends is normalised here (kong/runloop/plugin_servers/rpc/mp_rpc.lua): Lua nil arrives as
 * an absent `Data` (undefined), only the first Lua return value arrives, raw bodies arrive as bin
 * (Uint8Array), header maps arrive through StepMultiMap as name -> list of values.
 */
export class Pdk {
  private exited = false;

  constructor(private readonly kong: KongBridge) {}

  /** The raw request body, or null when there is none (or Kong could not read it). */
  async rawBody(): Promise<Buffer | null> {
    // The argument 0 makes Kong read bodies that spilled to a temp file (> client_body_buffer_size);
    // without it Kong gets nil and fails packing it. The size limit is ours to check.
    return toBuffer(await this.kong.request.getRawBody(0));
  }

  async header(name: string): Promise<string | null> {
    return firstValue(await this.kong.request.getHeader(name));
  }

  /** All request headers, lower-cased names, every value as a list. */
  async headers(): Promise<Record<string, string[]>> {
    return normaliseHeaders(await this.kong.request.getHeaders());
  }

  async method(): Promise<string> {
    return String(await this.kong.request.getMethod());
  }

  async path(): Promise<string> {
    return String(await this.kong.request.getPath());
  }

  async clientIp(): Promise<string | null> {
    return firstValue(await this.kong.client.getIp());
  }

  /** The client's address as Kong's trusted_ips / real_ip settings resolve it (X-Forwarded-For from trusted proxies). */
  async forwardedIp(): Promise<string | null> {
    return firstValue(await this.kong.client.getForwardedIp());
  }

  /** The authenticated consumer's groups (`kong.client.get_consumer_groups`); empty when none. */
  async consumerGroups(): Promise<KongEntity[]> {
    const groups: unknown = await this.kong.client.getConsumerGroups();
    return Array.isArray(groups) ? (groups as KongEntity[]) : [];
  }

  async consumer(): Promise<KongConsumer | null> {
    return (await this.kong.client.getConsumer()) ?? null;
  }

  async credential(): Promise<KongCredential | null> {
    return (await this.kong.client.getCredential()) ?? null;
  }

  async route(): Promise<KongRoute | null> {
    return (await this.kong.router.getRoute()) ?? null;
  }

  async service(): Promise<KongEntity | null> {
    return (await this.kong.router.getService()) ?? null;
  }

  /** `kong.ctx.shared`: per-request storage shared by all plugins of the request, kept by Kong. */
  async sharedGet(key: string): Promise<string | null> {
    return firstValue(await this.kong.ctx.shared.get(key));
  }

  async sharedSet(key: string, value: string): Promise<void> {
    await this.kong.ctx.shared.set(key, value);
  }

  /** Sets several headers on the request Kong sends upstream, in one round trip. */
  async setUpstreamHeaders(headers: HeaderMap): Promise<void> {
    await this.kong.service.request.setHeaders(headers);
  }

  /** Replaces the body Kong sends upstream. */
  async setUpstreamBody(body: string): Promise<void> {
    await this.kong.service.request.setRawBody(body);
  }

  /**
   * Ends the request with this response. Kong never returns control after `exit`, so the
   * caller must return right after awaiting this; a second exit in the same phase is a bug.
   */
  async exit(status: number, body: string, headers: HeaderMap): Promise<void> {
    if (this.exited) throw new Error('kong.response.exit called twice in one phase');
    this.exited = true;
    await this.kong.response.exit(status, body, headers);
  }

  get hasExited(): boolean {
    return this.exited;
  }

  async logWarn(message: string): Promise<void> {
    await this.kong.log.warn(message);
  }
}

// Kong leaves `Data` out of a Step whose PDK result was nil, so "absent" arrives as undefined.
function toBuffer(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

function firstValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return String(value);
}

export function normaliseHeaders(value: unknown): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  if (value === null || typeof value !== 'object') return headers;
  for (const [name, raw] of Object.entries(value as WireHeaders)) {
    const list = Array.isArray(raw) ? raw.map(String) : [String(raw)];
    const key = name.toLowerCase();
    headers[key] = [...(headers[key] ?? []), ...list];
  }
  return headers;
}
