// The mock's OpenAI Chat Completions wire format: replays recorded OpenAI payloads or echoes the prompt in their shape.
import {
  DATA_PREFIX,
  breakJson,
  breakOneEvent,
  cloneJson,
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

/** The recorded files replayed by the mock; see test/fixtures/openai/SOURCES.md for their provenance. */
export const FIXTURE_FILES = {
  completion: 'chat_completion.vercel-ai.gpt-4.1-nano.json',
  toolCallCompletion: 'chat_completion_tool_calls.openai-python.gpt-4o.parallel.json',
  stream: 'chat_stream_usage.openai-python.gpt-4o.text.sse',
  toolCallStream: 'chat_stream_tool_call.openai-python.gpt-4o.parallel.sse',
  badRequestError: 'error_400_unsupported_parameter.vercel-ai.json',
  notFoundError: 'error_404_model_not_found.pydantic-ai.json',
  embeddings: 'embeddings.vercel-ai.text-embedding-3-small.trimmed.json',
} as const;

interface OpenAiFixtures {
  /** Raw response bodies, kept as recorded so replay sends them byte for byte. */
  completion: string;
  toolCallCompletion: string;
  /** SSE events as recorded, each without its terminating blank line (e.g. `data: {...}`). */
  stream: string[];
  toolCallStream: string[];
  badRequestError: string;
  notFoundError: string;
  embeddings: string;
}

async function loadOpenAiFixtures(directory: string): Promise<OpenAiFixtures> {
  const read = (name: string): Promise<string> => readFixture(directory, name, 'MOCK_LLM_FIXTURES');
  return {
    completion: await read(FIXTURE_FILES.completion),
    toolCallCompletion: await read(FIXTURE_FILES.toolCallCompletion),
    stream: splitSseEvents(await read(FIXTURE_FILES.stream)),
    toolCallStream: splitSseEvents(await read(FIXTURE_FILES.toolCallStream)),
    badRequestError: await read(FIXTURE_FILES.badRequestError),
    notFoundError: await read(FIXTURE_FILES.notFoundError),
    embeddings: await read(FIXTURE_FILES.embeddings),
  };
}

const DONE_EVENT = 'data: [DONE]';

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

// ---------------------------------------------------------------------------------------------
// Chat request reading

interface ChatRequest {
  stream: boolean;
  includeUsage: boolean;
  hasTools: boolean;
  messages: unknown[];
  /** max_completion_tokens or max_tokens: a provider never answers more (echo counts a word as a token). */
  maxTokens: number | null;
}

function readChatRequest(body: JsonObject): ChatRequest {
  const streamOptions = body['stream_options'];
  const tools = body['tools'];
  return {
    stream: body['stream'] === true,
    includeUsage: isJsonObject(streamOptions) && streamOptions['include_usage'] === true,
    hasTools: Array.isArray(tools) && tools.length > 0,
    messages: Array.isArray(body['messages']) ? body['messages'] : [],
    maxTokens: positiveNumber(body['max_completion_tokens']) ?? positiveNumber(body['max_tokens']),
  };
}

function positiveNumber(value: unknown): number | null {
  return typeof value === 'number' && value > 0 ? value : null;
}

/** The echo answer, cut to max tokens words as a provider stops at max_tokens (finish_reason "length"). */
function echoAnswer(request: ChatRequest): { answer: string; finishReason: 'stop' | 'length' } {
  const answer = lastUserText(request.messages);
  if (request.maxTokens === null || countWords(answer) <= request.maxTokens) return { answer, finishReason: 'stop' };
  return { answer: answer.split(/\s+/).filter((word) => word.length > 0).slice(0, request.maxTokens).join(' '), finishReason: 'length' };
}

// ---------------------------------------------------------------------------------------------
// Error bodies in OpenAI's shape

export function openAiError(status: number, message: string, type: string, param: string | null, code: string | null): ErrorReply {
  return { status, body: JSON.stringify({ error: { message, type, param, code } }, null, 2) };
}

/** The live API's wording for a body that is not JSON (no recorded copy exists in the fixtures). */
function invalidJsonError(): ErrorReply {
  return openAiError(
    400,
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
    'invalid_request_error',
    null,
    null,
  );
}

/** Minimal validation, as the live API words it; the shape follows the recorded error fixtures. */
function validateChatBody(body: JsonObject): ErrorReply | undefined {
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

// ---------------------------------------------------------------------------------------------
// Response payloads

function replaceUsageCounts(usage: unknown, promptTokens: number, completionTokens: number): void {
  if (!isJsonObject(usage)) return;
  usage['prompt_tokens'] = promptTokens;
  usage['completion_tokens'] = completionTokens;
  usage['total_tokens'] = promptTokens + completionTokens;
}

/** The echo answer in the recorded completion's shape; only content, finish and usage counts change. */
function echoCompletion(template: string, request: ChatRequest): JsonObject {
  const completion = JSON.parse(template) as JsonObject;
  const { answer, finishReason } = echoAnswer(request);
  const choice = firstChoice(completion);
  if (choice && isJsonObject(choice['message'])) choice['message']['content'] = answer;
  if (choice) choice['finish_reason'] = finishReason;
  replaceUsageCounts(completion['usage'], messagesWordCount(request.messages), countWords(answer));
  return completion;
}

/** Non-streaming body text: recorded bytes untouched unless echo or a fault requires a change. */
function completionBody(fixtures: OpenAiFixtures, request: ChatRequest, mode: MockMode, faults: MockFaults): string {
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
  const { answer } = echoAnswer(request);
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
    replaceUsageCounts(usageChunk['usage'], messagesWordCount(request.messages), countWords(answer));
    events.push(DATA_PREFIX + JSON.stringify(usageChunk));
  }
  events.push(DONE_EVENT);
  return events;
}

function streamEvents(fixtures: OpenAiFixtures, request: ChatRequest, mode: MockMode, faults: MockFaults): string[] {
  const recorded = request.hasTools && mode === 'replay' ? fixtures.toolCallStream : fixtures.stream;
  let events = mode === 'echo' ? echoStreamEvents(recorded, request) : recorded;
  if (!request.includeUsage || faults.omitUsage) events = events.filter((event) => !isUsageOnlyEvent(event));
  return faults.malformedJson ? breakOneEvent(events) : events;
}

// ---------------------------------------------------------------------------------------------
// The format

/** POST /v1/chat/completions and GET /v1/models, as OpenAI answers them. */
export class OpenAiChat implements WireFormat {
  readonly requestIdHeader = 'x-request-id';

  private constructor(private readonly fixtures: OpenAiFixtures) {}

  static async load(directory: string): Promise<OpenAiChat> {
    return new OpenAiChat(await loadOpenAiFixtures(directory));
  }

  respond(requestBody: string, { mode, faults }: ReplyContext): WireReply {
    let parsed: unknown;
    try {
      parsed = JSON.parse(requestBody);
    } catch {
      return { kind: 'json', ...invalidJsonError() };
    }
    if (!isJsonObject(parsed)) return { kind: 'json', ...invalidJsonError() };
    const invalid = validateChatBody(parsed);
    if (invalid) return { kind: 'json', ...invalid };
    const chat = readChatRequest(parsed);
    if (!chat.stream) return { kind: 'json', status: 200, body: completionBody(this.fixtures, chat, mode, faults) };
    return { kind: 'stream', events: streamEvents(this.fixtures, chat, mode, faults) };
  }

  /** POST /v1/embeddings: the recorded embeddings list (two inputs, vectors trimmed to 5 values by its authors). */
  embeddings(requestBody: string): WireReply {
    let parsed: unknown;
    try {
      parsed = JSON.parse(requestBody);
    } catch {
      return { kind: 'json', ...invalidJsonError() };
    }
    if (!isJsonObject(parsed) || parsed.input === undefined) return { kind: 'json', ...invalidJsonError() };
    return { kind: 'json', status: 200, body: this.fixtures.embeddings };
  }

  /**
   * The body for a forced status. 400 and 404 reuse recorded bodies; the others are written from the
   * live API's wording because no recorded copy exists (SOURCES.md found no recorded 429).
   */
  faultError(status: number): ErrorReply {
    switch (status) {
      case 400:
        return { status, body: this.fixtures.badRequestError };
      case 404:
        return { status, body: this.fixtures.notFoundError };
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

  internalError(message: string): ErrorReply {
    return openAiError(500, message, 'server_error', null, null);
  }

  notFound(route: string): ErrorReply {
    return openAiError(404, `Invalid URL (${route})`, 'invalid_request_error', null, null);
  }

  isFinalEvent(event: string): boolean {
    return event === DONE_EVENT;
  }

  /** The models seen in the replayed payloads; `created` comes from those payloads (no models listing was recorded). */
  modelListBody(): string {
    const { completion, toolCallCompletion, stream, toolCallStream } = this.fixtures;
    const payloads = [completion, toolCallCompletion, stream[0] ?? '', toolCallStream[0] ?? ''];
    const models = new Map<string, number>();
    for (const payload of payloads) {
      const data = payload.startsWith(DATA_PREFIX) ? parseEventData(payload) : (JSON.parse(payload) as JsonObject);
      if (data && typeof data['model'] === 'string') models.set(data['model'], Number(data['created'] ?? 0));
    }
    const list = { object: 'list', data: [...models].map(([id, created]) => ({ id, object: 'model', created, owned_by: 'system' })) };
    return JSON.stringify(list, null, 2);
  }
}
