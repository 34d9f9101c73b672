// The mock's Anthropic Messages wire format (POST /v1/messages): replays recorded Anthropic payloads or echoes the prompt in their shape.
import {
  DATA_PREFIX,
  breakJson,
  breakOneEvent,
  cloneJson,
  contentText,
  countWords,
  isJsonObject,
  lastUserText,
  messagesWordCount,
  parseEventData,
  readFixture,
  splitIntoEchoPieces,
  splitSseEvents,
  type ErrorReply,
  type JsonObject,
  type MockFaults,
  type MockMode,
  type ReplyContext,
  type WireFormat,
  type WireReply,
} from './wire-common';

/** The recorded files replayed for Anthropic; see test/fixtures/anthropic/SOURCES.md for their provenance. */
export const ANTHROPIC_FIXTURE_FILES = {
  /** Text reply with usage (vercel/ai recording, pretty-printed there; sent as stored). */
  message: 'messages-text.json',
  /** Reply to a request with tools: one text block, then four parallel tool_use blocks. */
  toolUseMessage: 'messages-tool-use-parallel.json',
  /** Text stream, exact wire bytes including `event:` lines and Anthropic's trailing-space padding. */
  stream: 'stream-text.sse',
  /** tool_use stream whose input arrives as many input_json_delta fragments. */
  toolUseStream: 'stream-tool-use-input-json-delta.sse',
  badRequestError: 'error-400-invalid_request_error.json',
  notFoundError: 'error-404-not_found_error.json',
} as const;

interface AnthropicFixtures {
  /** Raw response bodies, kept as recorded so replay sends them byte for byte. */
  message: string;
  toolUseMessage: string;
  /** SSE events as recorded, each `event: <type>\ndata: {...}` without its terminating blank line. */
  stream: string[];
  toolUseStream: string[];
  badRequestError: string;
  notFoundError: string;
}

async function loadAnthropicFixtures(directory: string): Promise<AnthropicFixtures> {
  const read = (name: string): Promise<string> => readFixture(directory, name, 'MOCK_LLM_ANTHROPIC_FIXTURES');
  return {
    message: await read(ANTHROPIC_FIXTURE_FILES.message),
    toolUseMessage: await read(ANTHROPIC_FIXTURE_FILES.toolUseMessage),
    stream: splitSseEvents(await read(ANTHROPIC_FIXTURE_FILES.stream)),
    toolUseStream: splitSseEvents(await read(ANTHROPIC_FIXTURE_FILES.toolUseStream)),
    badRequestError: await read(ANTHROPIC_FIXTURE_FILES.badRequestError),
    notFoundError: await read(ANTHROPIC_FIXTURE_FILES.notFoundError),
  };
}

/** Anthropic names every SSE event twice: on the `event:` line and as `type` in the data. */
function sseEvent(data: JsonObject): string {
  return `event: ${String(data['type'])}\n${DATA_PREFIX}${JSON.stringify(data)}`;
}

function eventType(event: string): string | undefined {
  const type = parseEventData(event)?.['type'];
  return typeof type === 'string' ? type : undefined;
}

// ---------------------------------------------------------------------------------------------
// Request reading

interface MessagesRequest {
  stream: boolean;
  hasTools: boolean;
  messages: unknown[];
  /** The system prompt: a string or text blocks, counted into echo's input_tokens. */
  system: unknown;
}

function readMessagesRequest(body: JsonObject): MessagesRequest {
  const tools = body['tools'];
  return {
    stream: body['stream'] === true,
    hasTools: Array.isArray(tools) && tools.length > 0,
    messages: Array.isArray(body['messages']) ? body['messages'] : [],
    system: body['system'],
  };
}

/** Echo mode's input_tokens: the words of the system prompt and of every message. */
function inputWordCount(request: MessagesRequest): number {
  return countWords(contentText(request.system)) + messagesWordCount(request.messages);
}

// ---------------------------------------------------------------------------------------------
// Error bodies in Anthropic's shape

/** Key order as the live API sends it (the recorded error fixtures are key-sorted re-serializations). */
function anthropicError(status: number, type: string, message: string, requestId: string): ErrorReply {
  return { status, body: JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId }) };
}

function invalidRequest(message: string, requestId: string): ErrorReply {
  return anthropicError(400, 'invalid_request_error', message, requestId);
}

/** Minimal validation with the live API's wording (its validator names the field, then the problem). */
function validateMessagesBody(body: JsonObject, requestId: string): ErrorReply | undefined {
  if (body['model'] === undefined) return invalidRequest('model: Field required', requestId);
  if (typeof body['model'] !== 'string') return invalidRequest('model: Input should be a valid string', requestId);
  if (body['max_tokens'] === undefined) return invalidRequest('max_tokens: Field required', requestId);
  if (!Number.isInteger(body['max_tokens'])) return invalidRequest('max_tokens: Input should be a valid integer', requestId);
  if (body['messages'] === undefined) return invalidRequest('messages: Field required', requestId);
  if (!Array.isArray(body['messages'])) return invalidRequest('messages: Input should be a valid list', requestId);
  if (body['messages'].length === 0) return invalidRequest('messages: at least one message is required', requestId);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Response payloads

/**
 * omitUsage empties usage objects instead of deleting them: the Messages schema requires `usage`,
 * and the official SDK's stream accumulator writes into `message.usage` on every message_delta,
 * so a missing object would crash clients rather than test their handling of absent counts.
 */
function emptyUsage(holder: unknown): void {
  if (isJsonObject(holder) && isJsonObject(holder['usage'])) holder['usage'] = {};
}

function setUsageCounts(usage: unknown, inputTokens: number | undefined, outputTokens: number | undefined): void {
  if (!isJsonObject(usage)) return;
  if (inputTokens !== undefined) usage['input_tokens'] = inputTokens;
  if (outputTokens !== undefined) usage['output_tokens'] = outputTokens;
}

/** The echo answer in the recorded message's shape; only text, stop reason and usage counts change. */
function echoMessage(template: string, request: MessagesRequest): JsonObject {
  const message = JSON.parse(template) as JsonObject;
  const answer = lastUserText(request.messages);
  const content = Array.isArray(message['content']) ? message['content'] : [];
  const textBlock: unknown = content.find((block) => isJsonObject(block) && block['type'] === 'text');
  message['content'] = [{ ...(isJsonObject(textBlock) ? textBlock : { type: 'text' }), text: answer }];
  message['stop_reason'] = 'end_turn';
  message['stop_sequence'] = null;
  setUsageCounts(message['usage'], inputWordCount(request), countWords(answer));
  return message;
}

/** Non-streaming body text: recorded bytes untouched unless echo or a fault requires a change. */
function messageBody(fixtures: AnthropicFixtures, request: MessagesRequest, mode: MockMode, faults: MockFaults): string {
  const recorded = request.hasTools && mode === 'replay' ? fixtures.toolUseMessage : fixtures.message;
  let body = recorded;
  if (mode === 'echo' || faults.omitUsage) {
    const message = mode === 'echo' ? echoMessage(recorded, request) : (JSON.parse(recorded) as JsonObject);
    if (faults.omitUsage) emptyUsage(message);
    // The live API sends compact JSON; only the recording was pretty-printed.
    body = JSON.stringify(message);
  }
  return faults.malformedJson ? breakJson(body) : body;
}

/**
 * Echo events built on the recorded text stream, in its order: message_start (input_tokens replaced),
 * content_block_start, ping, one text_delta per echo piece where the recorded deltas were,
 * content_block_stop, message_delta (end_turn, output_tokens replaced), message_stop.
 * message_start keeps its recorded placeholder output_tokens, as the live API sends one there too.
 */
function echoStreamEvents(template: string[], request: MessagesRequest): string[] {
  const answer = lastUserText(request.messages);
  const inputTokens = inputWordCount(request);
  const events: string[] = [];
  let deltasWritten = false;
  for (const event of template) {
    const data = parseEventData(event);
    const type = data?.['type'];
    if (data && type === 'message_start') {
      setUsageCounts(isJsonObject(data['message']) ? data['message']['usage'] : undefined, inputTokens, undefined);
      events.push(sseEvent(data));
    } else if (data && type === 'content_block_delta') {
      if (deltasWritten) continue;
      deltasWritten = true;
      for (const piece of splitIntoEchoPieces(answer)) {
        const delta = cloneJson(data);
        delta['delta'] = { type: 'text_delta', text: piece };
        events.push(sseEvent(delta));
      }
    } else if (data && type === 'message_delta') {
      data['delta'] = { ...(isJsonObject(data['delta']) ? data['delta'] : {}), stop_reason: 'end_turn', stop_sequence: null };
      const usage = data['usage'];
      // The recorded message_delta repeats input_tokens; keep it consistent with message_start when present.
      const repeatsInput = isJsonObject(usage) && usage['input_tokens'] !== undefined;
      setUsageCounts(usage, repeatsInput ? inputTokens : undefined, countWords(answer));
      events.push(sseEvent(data));
    } else {
      events.push(event);
    }
  }
  return events;
}

function withoutUsage(event: string): string {
  const data = parseEventData(event);
  const type = data?.['type'];
  if (!data || (type !== 'message_start' && type !== 'message_delta')) return event;
  emptyUsage(type === 'message_start' ? data['message'] : data);
  return sseEvent(data);
}

function streamEvents(fixtures: AnthropicFixtures, request: MessagesRequest, mode: MockMode, faults: MockFaults): string[] {
  const recorded = request.hasTools && mode === 'replay' ? fixtures.toolUseStream : fixtures.stream;
  let events = mode === 'echo' ? echoStreamEvents(fixtures.stream, request) : recorded;
  if (faults.omitUsage) events = events.map(withoutUsage);
  return faults.malformedJson ? breakOneEvent(events) : events;
}

// ---------------------------------------------------------------------------------------------
// The format

/** POST /v1/messages, as Anthropic answers it. */
export class AnthropicMessages implements WireFormat {
  readonly requestIdHeader = 'request-id';

  private constructor(private readonly fixtures: AnthropicFixtures) {}

  static async load(directory: string): Promise<AnthropicMessages> {
    return new AnthropicMessages(await loadAnthropicFixtures(directory));
  }

  respond(requestBody: string, { mode, faults, requestId }: ReplyContext): WireReply {
    let parsed: unknown;
    try {
      parsed = JSON.parse(requestBody);
    } catch (error) {
      // The live API quotes its JSON parser's complaint after this prefix.
      const reason = error instanceof Error ? error.message : String(error);
      return { kind: 'json', ...invalidRequest(`The request body is not valid JSON: ${reason}`, requestId) };
    }
    if (!isJsonObject(parsed)) return { kind: 'json', ...invalidRequest('Input should be a valid dictionary', requestId) };
    const invalid = validateMessagesBody(parsed, requestId);
    if (invalid) return { kind: 'json', ...invalid };
    const request = readMessagesRequest(parsed);
    if (!request.stream) return { kind: 'json', status: 200, body: messageBody(this.fixtures, request, mode, faults) };
    return { kind: 'stream', events: streamEvents(this.fixtures, request, mode, faults) };
  }

  /**
   * The body for a forced status. 400 and 404 reuse recorded bodies; the others use the wording the
   * live API is quoted with in bug reports, as SOURCES.md found no recorded copy (none for 529).
   */
  faultError(status: number, requestId: string): ErrorReply {
    switch (status) {
      case 400:
        return { status, body: this.fixtures.badRequestError };
      case 404:
        return { status, body: this.fixtures.notFoundError };
      case 401:
        return anthropicError(status, 'authentication_error', 'invalid x-api-key', requestId);
      case 403:
        return anthropicError(status, 'permission_error', 'Your API key does not have permission to use the specified resource.', requestId);
      case 413:
        return anthropicError(status, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.', requestId);
      case 429:
        return anthropicError(status, 'rate_limit_error', "This request would exceed your account's rate limit. Please try again later.", requestId);
      case 500:
        return anthropicError(status, 'api_error', 'Internal server error', requestId);
      // Anthropic reports overload as 529; 503 is what other providers (and this mock's OpenAI side) use for it.
      case 503:
      case 529:
        return anthropicError(status, 'overloaded_error', 'Overloaded', requestId);
      default:
        return status >= 500
          ? anthropicError(status, 'api_error', `Mock fault: HTTP ${status}.`, requestId)
          : anthropicError(status, 'invalid_request_error', `Mock fault: HTTP ${status}.`, requestId);
    }
  }

  internalError(message: string, requestId: string): ErrorReply {
    return anthropicError(500, 'api_error', message, requestId);
  }

  isFinalEvent(event: string): boolean {
    return eventType(event) === 'message_stop';
  }
}
