// Generates malformed requests for a route from its valid body: broken JSON, wrong types, deep nesting, sizes up to 10 MB, bad UTF-8, content types, unknown fields, huge headers.

export interface BadRequest {
  name: string;
  body: Buffer;
  /** null: no Content-Type header at all. */
  contentType: string | null;
  headers: Record<string, string>;
  /** Whether a correct answer (200) is acceptable; otherwise only a 4xx in OpenAI's shape is. */
  mayAnswer: boolean;
  /** The exact 4xx expected, where only one is right. */
  expectStatus?: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A valid body for each route of the repo's kong.yml; `marker` is in every text, to find logged bodies. */
export function validBody(routeName: string, marker: string): Record<string, Json> {
  switch (routeName) {
    case 'openai-chat':
      return { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${marker} say hello` }] };
    case 'anthropic-messages':
      return { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: `${marker} say hello` }] };
    case 'openai-embeddings':
      return { model: 'text-embedding-3-small', input: `${marker} embed this` };
    default:
      throw new Error(`no valid body known for route ${routeName}`);
  }
}

const JSON_TYPE = 'application/json';
const WRONG_VALUES: Json[] = [null, 0, -1.5, '', 'text', true, [], [null], {}, { nested: {} }];

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function request(name: string, body: Buffer, options: Partial<Omit<BadRequest, 'name' | 'body'>> = {}): BadRequest {
  return { name, body, contentType: JSON_TYPE, headers: {}, mayAnswer: false, ...options };
}

/** `[[[...]]]` `depth` deep, as JSON text: built as a string, since JSON.stringify itself would overflow the stack. */
function nestedArrays(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function nestedObjects(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Every path to a value in `value` (top-level fields, messages[0], messages[0].content ...), for type swaps. */
function valuePaths(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries: Array<[string | number, Json]> = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  return [...(prefix.length > 0 ? [prefix] : []), ...entries.flatMap(([key, item]) => valuePaths(item, [...prefix, key]))];
}

function withValueAt(value: Json, at: Array<string | number>, replacement: Json): Json {
  if (at.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, Json>;
  let cursor = copy;
  for (const key of at.slice(0, -1)) cursor = cursor[key] as Record<string | number, Json>;
  cursor[at.at(-1)!] = replacement;
  return copy as Json;
}

function sameKind(first: Json, second: Json): boolean {
  const kind = (value: Json) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
  return kind(first) === kind(second);
}

/** A valid request whose one text is `size` bytes long. */
function sized(valid: Record<string, Json>, size: number): Buffer {
  const skeleton = JSON.stringify(valid);
  return Buffer.from(skeleton.replace('say hello', 'x'.repeat(Math.max(0, size - skeleton.length))).replace('embed this', 'x'.repeat(Math.max(0, size - skeleton.length))));
}

export function generateBadRequests(routeName: string, marker: string): BadRequest[] {
  const valid = validBody(routeName, marker);
  const validText = JSON.stringify(valid);
  const requests: BadRequest[] = [request('valid', json(valid), { mayAnswer: true })];

  // Not JSON, or JSON that is not an object.
  for (const text of ['', ' ', '{', '{"model":', validText.slice(0, -1), `${validText}}`, `${validText}garbage`, 'nul', 'null', 'true', '42', '"text"', '[]', `[${validText}]`, "{'model':'m'}", '{"model":"m",}', 'NaN'])
    requests.push(request(`not a JSON object: ${JSON.stringify(text.slice(0, 30))}`, Buffer.from(text), { expectStatus: 400 }));
  // A byte-order mark before valid JSON: refused or read, either is fine; never a crash.
  requests.push(request('UTF-8 byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(valid)]), { mayAnswer: true }));

  // Every field, and every value inside, swapped for each value of another type; and missing.
  for (const at of valuePaths(valid)) {
    const original = at.reduce<Json>((cursor, key) => (cursor as Record<string | number, Json>)[key]!, valid);
    for (const replacement of WRONG_VALUES) {
      if (sameKind(original, replacement)) continue;
      // Some swaps are still valid requests (content as an array of parts, input as an array): an answer is right for those.
      requests.push(request(`${at.join('.')} = ${JSON.stringify(replacement)}`, json(withValueAt(valid, at, replacement)), { mayAnswer: true }));
    }
    if (at.length === 1) {
      const without = { ...valid };
      delete without[at[0] as string];
      requests.push(request(`without ${at[0]}`, json(without), { mayAnswer: true }));
    }
  }

  // Unknown fields, at the top and inside a message.
  requests.push(request('unknown top-level field', json({ ...valid, unknown_field_xyz: { deep: [1, 2, 3] } }), { mayAnswer: true }));
  if (Array.isArray(valid.messages)) requests.push(request('unknown message field', json(withValueAt(valid, ['messages', 0, 'unknown_field_xyz'], 'x')), { mayAnswer: true }));

  // Deep nesting where the plugins walk (message content) and where they should not care (an unknown field).
  for (const depth of [100, 10_000, 100_000]) {
    const textPath = routeName === 'openai-embeddings' ? '"input":' : '"content":';
    const where = validText.indexOf(textPath) + textPath.length;
    const end = validText.indexOf('"', validText.indexOf('"', where) + 1) + 1;
    requests.push(request(`content nested ${depth} deep`, Buffer.from(`${validText.slice(0, where)}${nestedArrays(depth)}${validText.slice(end)}`), { mayAnswer: true }));
    requests.push(request(`unknown field nested ${depth} deep`, Buffer.from(`${validText.slice(0, -1)},"unknown_field_xyz":${nestedObjects(depth)}}`), { mayAnswer: true }));
  }

  // Sizes: from 1 KB to 10 MB of valid JSON; llm-proxy's max_request_body_bytes (8 MiB by default) answers 413 beyond.
  for (const size of [1024, 64 * 1024, 1024 * 1024]) requests.push(request(`valid, ${size} bytes`, sized(valid, size), { mayAnswer: true }));
  for (const size of [9 * 1024 * 1024, 10 * 1024 * 1024]) requests.push(request(`valid, ${size} bytes`, sized(valid, size), { expectStatus: 413 }));
  requests.push(request('10 MB of not JSON', Buffer.alloc(10 * 1024 * 1024, 0x7b), { expectStatus: 413 }));

  // Invalid UTF-8 inside a string, and a lone surrogate escape (valid JSON, invalid Unicode).
  for (const [name, bytes] of [
    ['truncated sequence', [0xc3, 0x28]],
    ['lone 0xFF', [0xff]],
    ['overlong slash', [0xc0, 0xaf]],
    ['UTF-8 encoded surrogate', [0xed, 0xa0, 0x80]],
    ['NUL byte', [0x00]],
  ] as Array<[string, number[]]>) {
    const at = validText.indexOf(marker) + marker.length;
    requests.push(request(`invalid UTF-8: ${name}`, Buffer.concat([Buffer.from(validText.slice(0, at)), Buffer.from(bytes), Buffer.from(validText.slice(at))]), { mayAnswer: true }));
  }
  requests.push(request('lone surrogate escape', Buffer.from(validText.replace(marker, `${marker}\\ud800`)), { mayAnswer: true }));

  // Content types: a valid JSON body under other types (read as JSON or refused), and a form body.
  for (const contentType of [null, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml'])
    requests.push(request(`content type ${contentType}`, json(valid), { contentType, mayAnswer: true }));
  requests.push(request('form-encoded body', Buffer.from(`model=m&input=${marker}`), { contentType: 'application/x-www-form-urlencoded', expectStatus: 400 }));

  // Huge header values (nginx's default limit is 8 KB per header line) on the headers plugins read, and many headers.
  const huge = 'h'.repeat(7_900);
  for (const header of ['cache-control', 'anthropic-version', 'anthropic-beta', 'x-request-id', 'traceparent', 'user-agent', 'accept', 'x-consumer-username', 'x-ai-gateway-context'])
    requests.push(request(`huge ${header} header`, json(valid), { headers: { [header]: huge }, mayAnswer: true }));
  requests.push(request('200 headers', json(valid), { headers: Object.fromEntries(Array.from({ length: 200 }, (_, index) => [`x-extra-${index}`, 'v'.repeat(40)])), mayAnswer: true }));
  return requests;
}
