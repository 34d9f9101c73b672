// Mock OpenAI Chat Completions upstream: replays recorded provider payloads (or echoes the prompt) with switchable faults.
import http from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

export interface MockFaults {
  status?: number;
  retryAfterSeconds?: number;
  headersDelayMs?: number;
  chunkDelayMs?: number;
  cutAfterChunks?: number;
  omitUsage?: boolean;
  malformedJson?: boolean;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  receivedAt: number;
}

export type MockMode = 'replay' | 'echo';

export interface MockLlm {
  url: string;
  port: number;
  received: ReceivedRequest[];
  setFaults(faults: MockFaults): void;
  setMode(mode: MockMode): void;
  /** Same as POST /__mock/reset: clears received requests and faults (the mode stays). */
  reset(): void;
  close(): Promise<void>;
}

export interface StartMockLlmOptions {
  port?: number;
  host?: string;
  mode?: MockMode;
  /** Directory holding the recorded OpenAI payloads; defaults to resolveFixturesDirectory(). */
  fixturesDirectory?: string;
}

/** The recorded files replayed by the mock; see test/fixtures/openai/SOURCES.md for their provenance. */
export const FIXTURE_FILES = {
  completion: 'chat_completion.vercel-ai.gpt-4.1-nano.json',
  toolCallCompletion: 'chat_completion_tool_calls.openai-python.gpt-4o.parallel.json',
  stream: 'chat_stream_usage.openai-python.gpt-4o.text.sse',
  toolCallStream: 'chat_stream_tool_call.openai-python.gpt-4o.parallel.sse',
  badRequestError: 'error_400_unsupported_parameter.vercel-ai.json',
  notFoundError: 'error_404_model_not_found.pydantic-ai.json',
} as const;

/**
 * Echo mode streams the answer in pieces of these lengths (in code points), cycling.
 * Uneven lengths make consumers see words and placeholders split at odd places.
 */
export const ECHO_PIECE_LENGTHS = [1, 3, 2, 4] as const;

/** Echo mode joins the text parts of an array content with this separator. */
export const ECHO_TEXT_PART_SEPARATOR = '\n';

/**
 * Finds the recorded payloads: MOCK_LLM_FIXTURES wins; otherwise the repository's test/fixtures/openai
 * seen from the compiled file (dist/test/mock-llm/ -> ../../../test/fixtures/openai), which also holds
 * in a Docker image that copies test/fixtures next to dist. The source-relative path is a fallback
 * for running the TypeScript directly.
 */
export function resolveFixturesDirectory(): string {
  const fromEnvironment = process.env['MOCK_LLM_FIXTURES'];
  if (fromEnvironment) return path.resolve(fromEnvironment);
  const fromCompiled = path.resolve(__dirname, '../../../test/fixtures/openai');
  const fromSource = path.resolve(__dirname, '../fixtures/openai');
  return existsSync(fromCompiled) || !existsSync(fromSource) ? fromCompiled : fromSource;
}

/** Deterministic stand-in for a tokenizer: the number of whitespace-separated words. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => word.length > 0).length;
}

/** Splits text into pieces of ECHO_PIECE_LENGTHS code points (never inside a surrogate pair, as OpenAI never sends half a character). */
export function splitIntoEchoPieces(text: string): string[] {
  const characters = Array.from(text);
  const pieces: string[] = [];
  let position = 0;
  while (position < characters.length) {
    const length = ECHO_PIECE_LENGTHS[pieces.length % ECHO_PIECE_LENGTHS.length] ?? 1;
    pieces.push(characters.slice(position, position + length).join(''));
    position += length;
  }
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// Recorded payloads

interface Fixtures {
  /** Raw response bodies, kept as recorded so replay sends them byte for byte. */
  completion: string;
  toolCallCompletion: string;
  /** SSE events as recorded, each without its terminating blank line (e.g. `data: {...}`). */
  stream: string[];
  toolCallStream: string[];
  badRequestError: string;
  notFoundError: string;
}

async function loadFixtures(directory: string): Promise<Fixtures> {
  const read = (name: string): Promise<string> =>
    readFile(path.join(directory, name), 'utf8').catch((error: unknown) => {
      throw new Error(`mock-llm: cannot read fixture ${name} in ${directory} (set MOCK_LLM_FIXTURES): ${String(error)}`);
    });
  return {
    completion: await read(FIXTURE_FILES.completion),
    toolCallCompletion: await read(FIXTURE_FILES.toolCallCompletion),
    stream: splitSseEvents(await read(FIXTURE_FILES.stream)),
    toolCallStream: splitSseEvents(await read(FIXTURE_FILES.toolCallStream)),
    badRequestError: await read(FIXTURE_FILES.badRequestError),
    notFoundError: await read(FIXTURE_FILES.notFoundError),
  };
}

function splitSseEvents(transcript: string): string[] {
  return transcript.split('\n\n').filter((event) => event.length > 0);
}

const DATA_PREFIX = 'data: ';
const DONE_EVENT = 'data: [DONE]';

type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON payload of a `data:` event, or undefined for [DONE] and anything else. */
function parseEventData(event: string): JsonObject | undefined {
  if (!event.startsWith(DATA_PREFIX) || event === DONE_EVENT) return undefined;
  try {
    const parsed: unknown = JSON.parse(event.slice(DATA_PREFIX.length));
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** OpenAI's final usage chunk: `choices: []` plus `usage`, sent only for stream_options.include_usage. */
function isUsageOnlyEvent(event: string): boolean {
  const data = parseEventData(event);
  return data !== undefined && Array.isArray(data['choices']) && data['choices'].length === 0 && isJsonObject(data['usage']);
}

function firstChoice(data: JsonObject): JsonObject | undefined {
  const choices = data['choices'];
  const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
  return isJsonObject(choice) ? choice : undefined;
}

function hasFinishReason(event: string): boolean {
  const data = parseEventData(event);
  const choice = data ? firstChoice(data) : undefined;
  return typeof choice?.['finish_reason'] === 'string';
}

function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// ---------------------------------------------------------------------------------------------
// Chat request reading

interface ChatRequest {
  stream: boolean;
  includeUsage: boolean;
  hasTools: boolean;
  messages: unknown[];
}

/** The text of one message's content: the string itself, or its text parts joined. */
function messageText(message: unknown): string {
  if (!isJsonObject(message)) return '';
  const content = message['content'];
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is JsonObject => isJsonObject(part) && part['type'] === 'text' && typeof part['text'] === 'string')
    .map((part) => part['text'] as string)
    .join(ECHO_TEXT_PART_SEPARATOR);
}

function lastUserText(messages: unknown[]): string {
  const lastUser = [...messages].reverse().find((message) => isJsonObject(message) && message['role'] === 'user');
  return messageText(lastUser);
}

/** Echo mode's prompt_tokens: the words of every message's text content. */
function promptWordCount(messages: unknown[]): number {
  return messages.reduce<number>((total, message) => total + countWords(messageText(message)), 0);
}

function readChatRequest(body: JsonObject): ChatRequest {
  const streamOptions = body['stream_options'];
  const tools = body['tools'];
  return {
    stream: body['stream'] === true,
    includeUsage: isJsonObject(streamOptions) && streamOptions['include_usage'] === true,
    hasTools: Array.isArray(tools) && tools.length > 0,
    messages: Array.isArray(body['messages']) ? body['messages'] : [],
  };
}

// ---------------------------------------------------------------------------------------------
// Error bodies in OpenAI's shape

interface OpenAiErrorBody {
  status: number;
  body: string;
}

function openAiError(status: number, message: string, type: string, param: string | null, code: string | null): OpenAiErrorBody {
  return { status, body: JSON.stringify({ error: { message, type, param, code } }, null, 2) };
}

/** The live API's wording for a body that is not JSON (no recorded copy exists in the fixtures). */
function invalidJsonError(): OpenAiErrorBody {
  return openAiError(
    400,
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
    'invalid_request_error',
    null,
    null,
  );
}

/** Minimal validation, as the live API words it; the shape follows the recorded error fixtures. */
function validateChatBody(body: JsonObject): OpenAiErrorBody | undefined {
  if (typeof body['model'] !== 'string' || body['model'].length === 0) {
    return openAiError(400, 'you must provide a model parameter', 'invalid_request_error', null, null);
  }
  if (body['messages'] === undefined) {
    return openAiError(400, "Missing required parameter: 'messages'.", 'invalid_request_error', 'messages', 'missing_required_parameter');
  }
  if (!Array.isArray(body['messages'])) {
    return openAiError(400, "Invalid type for 'messages': expected an array, but got a value instead.", 'invalid_request_error', 'messages', 'invalid_type');
  }
  if (body['messages'].length === 0) {
    return openAiError(
      400,
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'invalid_request_error',
      'messages',
      'empty_array',
    );
  }
  return undefined;
}

/**
 * The body for a forced status. 400 and 404 reuse recorded bodies; the others are written from the
 * live API's wording because no recorded copy exists (SOURCES.md found no recorded 429).
 */
function faultError(status: number, fixtures: Fixtures): OpenAiErrorBody {
  switch (status) {
    case 400:
      return { status, body: fixtures.badRequestError };
    case 404:
      return { status, body: fixtures.notFoundError };
    case 401:
      return openAiError(status, 'Incorrect API key provided: test. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', null, 'invalid_api_key');
    case 429:
      return openAiError(status, 'Rate limit reached for requests. Please try again later.', 'requests', null, 'rate_limit_exceeded');
    case 500:
      return openAiError(status, 'The server had an error while processing your request. Sorry about that!', 'server_error', null, null);
    case 503:
      return openAiError(status, 'The engine is currently overloaded, please try again later.', 'server_error', null, null);
    default:
      return openAiError(status, `Mock fault: HTTP ${status}.`, status >= 500 ? 'server_error' : 'invalid_request_error', null, null);
  }
}

// ---------------------------------------------------------------------------------------------
// Response payloads

/** Cuts a JSON text in half: what a consumer sees from a broken upstream. */
function breakJson(text: string): string {
  return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
}

function replaceUsageCounts(usage: unknown, promptTokens: number, completionTokens: number): void {
  if (!isJsonObject(usage)) return;
  usage['prompt_tokens'] = promptTokens;
  usage['completion_tokens'] = completionTokens;
  usage['total_tokens'] = promptTokens + completionTokens;
}

/** The echo answer in the recorded completion's shape; only content, finish and usage counts change. */
function echoCompletion(template: string, request: ChatRequest): JsonObject {
  const completion = JSON.parse(template) as JsonObject;
  const answer = lastUserText(request.messages);
  const choice = firstChoice(completion);
  if (choice && isJsonObject(choice['message'])) choice['message']['content'] = answer;
  if (choice) choice['finish_reason'] = 'stop';
  replaceUsageCounts(completion['usage'], promptWordCount(request.messages), countWords(answer));
  return completion;
}

/** Non-streaming body text: recorded bytes untouched unless echo or a fault requires a change. */
function completionBody(fixtures: Fixtures, request: ChatRequest, mode: MockMode, faults: MockFaults): string {
  const recorded = request.hasTools && mode === 'replay' ? fixtures.toolCallCompletion : fixtures.completion;
  let body = recorded;
  if (mode === 'echo' || faults.omitUsage) {
    const completion = mode === 'echo' ? echoCompletion(recorded, request) : (JSON.parse(recorded) as JsonObject);
    if (faults.omitUsage) delete completion['usage'];
    // OpenAI sends non-streaming completions pretty-printed with two spaces.
    body = JSON.stringify(completion, null, 2);
  }
  return faults.malformedJson ? breakJson(body) : body;
}

/** Echo events built on the recorded stream: its role chunk, content chunks, finish chunk, usage chunk. */
function echoStreamEvents(template: string[], request: ChatRequest): string[] {
  const roleEvent = template[0] ?? '';
  const contentTemplate = template.map(parseEventData).find((data, index) => index > 0 && data !== undefined && firstChoice(data));
  const finishEvent = template.find(hasFinishReason);
  const usageEvent = template.find(isUsageOnlyEvent);
  const answer = lastUserText(request.messages);
  const events = [roleEvent];
  for (const piece of splitIntoEchoPieces(answer)) {
    const chunk = cloneJson(contentTemplate ?? {});
    const choice = firstChoice(chunk);
    if (choice) choice['delta'] = { content: piece };
    events.push(DATA_PREFIX + JSON.stringify(chunk));
  }
  if (finishEvent) events.push(finishEvent);
  const usageChunk = usageEvent ? parseEventData(usageEvent) : undefined;
  if (usageChunk) {
    replaceUsageCounts(usageChunk['usage'], promptWordCount(request.messages), countWords(answer));
    events.push(DATA_PREFIX + JSON.stringify(usageChunk));
  }
  events.push(DONE_EVENT);
  return events;
}

/** Breaks the first chunk after the role chunk, so consumers hit it early but after a valid start. */
function breakOneEvent(events: string[]): string[] {
  const target = events.findIndex((event, index) => index > 0 && parseEventData(event) !== undefined);
  const index = target === -1 ? 0 : target;
  return events.map((event, position) => (position === index ? DATA_PREFIX + breakJson(event.slice(DATA_PREFIX.length)) : event));
}

function streamEvents(fixtures: Fixtures, request: ChatRequest, mode: MockMode, faults: MockFaults): string[] {
  const recorded = request.hasTools && mode === 'replay' ? fixtures.toolCallStream : fixtures.stream;
  let events = mode === 'echo' ? echoStreamEvents(recorded, request) : recorded;
  if (!request.includeUsage || faults.omitUsage) events = events.filter((event) => !isUsageOnlyEvent(event));
  return faults.malformedJson ? breakOneEvent(events) : events;
}

/** The models seen in the replayed payloads; `created` comes from those payloads (no models listing was recorded). */
function modelList(fixtures: Fixtures): JsonObject {
  const payloads = [fixtures.completion, fixtures.toolCallCompletion, fixtures.stream[0] ?? '', fixtures.toolCallStream[0] ?? ''];
  const models = new Map<string, number>();
  for (const payload of payloads) {
    const data = payload.startsWith(DATA_PREFIX) ? parseEventData(payload) : (JSON.parse(payload) as JsonObject);
    if (data && typeof data['model'] === 'string') models.set(data['model'], Number(data['created'] ?? 0));
  }
  return {
    object: 'list',
    data: [...models].map(([id, created]) => ({ id, object: 'model', created, owned_by: 'system' })),
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing

const faultsSchema = z
  .object({
    status: z.number().int().min(100).max(599).optional(),
    retryAfterSeconds: z.number().min(0).optional(),
    headersDelayMs: z.number().min(0).optional(),
    chunkDelayMs: z.number().min(0).optional(),
    cutAfterChunks: z.number().int().min(0).optional(),
    omitUsage: z.boolean().optional(),
    malformedJson: z.boolean().optional(),
  })
  .strict();

const modeSchema = z.object({ mode: z.enum(['replay', 'echo']) }).strict();

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Waits, but gives up when the client has gone; returns whether the request is still alive. */
async function waitUnlessAborted(milliseconds: number, signal: AbortSignal): Promise<boolean> {
  if (milliseconds > 0) {
    try {
      await sleep(milliseconds, undefined, { signal });
    } catch {
      return false;
    }
  }
  return !signal.aborted;
}

/** Resolves once the bytes are handed to the socket, so a later cut cannot discard them. */
function writeAndFlush(response: http.ServerResponse, text: string): Promise<void> {
  return new Promise((resolve) => response.write(text, () => resolve()));
}

function sendJson(response: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

function sendError(response: http.ServerResponse, error: OpenAiErrorBody, headers: http.OutgoingHttpHeaders = {}): void {
  sendJson(response, error.status, error.body, headers);
}

function urlHost(host: string): string {
  // A wildcard address is not something a client can connect to; loopback reaches it.
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

// ---------------------------------------------------------------------------------------------
// The server

class MockLlmServer implements MockLlm {
  url = '';
  port = 0;
  readonly received: ReceivedRequest[] = [];
  private faults: MockFaults = {};
  private requestCount = 0;
  private readonly inFlight = new Set<AbortController>();
  private readonly server: http.Server;

  constructor(
    private readonly fixtures: Fixtures,
    private mode: MockMode,
  ) {
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => this.failUnexpectedly(response, error));
    });
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.url = `http://${urlHost(host)}:${this.port}/v1`;
  }

  setFaults(faults: MockFaults): void {
    this.faults = { ...faultsSchema.parse(faults) };
  }

  setMode(mode: MockMode): void {
    this.mode = modeSchema.parse({ mode }).mode;
  }

  reset(): void {
    // Cleared in place: callers may hold a reference to `received`.
    this.received.length = 0;
    this.faults = {};
  }

  async close(): Promise<void> {
    for (const controller of this.inFlight) controller.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = await readBody(request);
    const pathname = new URL(request.url ?? '/', 'http://mock').pathname;
    if (pathname.startsWith('/__mock/')) return this.handleControl(request.method ?? 'GET', pathname, body, response);
    this.received.push({ method: request.method ?? 'GET', path: request.url ?? '/', headers: { ...request.headers }, body, receivedAt: Date.now() });
    // Faults and mode are read once, at arrival, so a switch never changes a response half-way.
    const faults = this.faults;
    const mode = this.mode;
    const controller = new AbortController();
    this.inFlight.add(controller);
    response.on('close', () => {
      controller.abort();
      this.inFlight.delete(controller);
    });
    response.setHeader('x-request-id', `req_mock${String(++this.requestCount).padStart(8, '0')}`);
    if (!(await waitUnlessAborted(faults.headersDelayMs ?? 0, controller.signal))) return;
    if (faults.status !== undefined) return this.sendFaultStatus(response, faults);
    const route = `${request.method ?? 'GET'} ${pathname}`;
    if (route === 'POST /v1/chat/completions') return this.handleChat(body, response, faults, mode, controller.signal);
    if (route === 'GET /v1/models') return sendJson(response, 200, JSON.stringify(modelList(this.fixtures), null, 2));
    sendError(response, openAiError(404, `Invalid URL (${route})`, 'invalid_request_error', null, null));
  }

  private sendFaultStatus(response: http.ServerResponse, faults: MockFaults): void {
    const status = faults.status ?? 500;
    const headers: http.OutgoingHttpHeaders = status === 429 ? { 'retry-after': String(faults.retryAfterSeconds ?? 1) } : {};
    sendError(response, faultError(status, this.fixtures), headers);
  }

  private async handleChat(text: string, response: http.ServerResponse, faults: MockFaults, mode: MockMode, signal: AbortSignal): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return sendError(response, invalidJsonError());
    }
    if (!isJsonObject(parsed)) return sendError(response, invalidJsonError());
    const invalid = validateChatBody(parsed);
    if (invalid) return sendError(response, invalid);
    const chat = readChatRequest(parsed);
    if (!chat.stream) return sendJson(response, 200, completionBody(this.fixtures, chat, mode, faults));
    await this.sendStream(response, streamEvents(this.fixtures, chat, mode, faults), faults, signal);
  }

  private async sendStream(response: http.ServerResponse, events: string[], faults: MockFaults, signal: AbortSignal): Promise<void> {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.flushHeaders();
    // Each event must leave as soon as it is written, or chunk delays would be invisible to clients.
    response.socket?.setNoDelay(true);
    const cutAfter = faults.cutAfterChunks;
    // A cut stream never reaches [DONE], however many events it was allowed.
    const toSend = cutAfter === undefined ? events : events.filter((event) => event !== DONE_EVENT).slice(0, cutAfter);
    for (const [index, event] of toSend.entries()) {
      if (index > 0 && !(await waitUnlessAborted(faults.chunkDelayMs ?? 0, signal))) return;
      if (signal.aborted) return;
      await writeAndFlush(response, `${event}\n\n`);
    }
    // A cut upstream ends the connection without the terminating chunk: clients must see an error, not an end.
    if (cutAfter !== undefined) response.socket?.destroy();
    else response.end();
  }

  private handleControl(method: string, pathname: string, body: string, response: http.ServerResponse): void {
    const route = `${method} ${pathname}`;
    try {
      if (route === 'POST /__mock/faults') this.setFaults(JSON.parse(body || '{}') as MockFaults);
      else if (route === 'POST /__mock/mode') this.setMode(modeSchema.parse(JSON.parse(body || '{}')).mode);
      else if (route === 'POST /__mock/reset') this.reset();
      else if (route === 'GET /__mock/received') return sendJson(response, 200, JSON.stringify(this.received));
      else return sendError(response, openAiError(404, `Invalid URL (${route})`, 'invalid_request_error', null, null));
    } catch (error) {
      return sendError(response, openAiError(400, `Invalid mock control request: ${String(error)}`, 'invalid_request_error', null, null));
    }
    sendJson(response, 200, JSON.stringify({ faults: this.faults, mode: this.mode }));
  }

  private failUnexpectedly(response: http.ServerResponse, error: unknown): void {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    sendError(response, openAiError(500, `mock-llm internal error: ${String(error)}`, 'server_error', null, null));
  }
}

/** Starts the mock on loopback (an ephemeral port unless one is given) in replay mode unless told otherwise. */
export async function startMockLlm(options: StartMockLlmOptions = {}): Promise<MockLlm> {
  const fixtures = await loadFixtures(options.fixturesDirectory ?? resolveFixturesDirectory());
  const server = new MockLlmServer(fixtures, options.mode ?? 'replay');
  await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return server;
}
