// Tests for the mock LLM's Anthropic Messages API, over plain fetch (the official @anthropic-ai/sdk is not installed yet).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ANTHROPIC_FIXTURE_FILES, countWords, resolveAnthropicFixturesDirectory, startMockLlm, type MockLlm } from './mock-llm';

const fixturesDirectory = resolveAnthropicFixturesDirectory();
const readFixture = (name: string): string => readFileSync(path.join(fixturesDirectory, name), 'utf8');

// The parts of Anthropic's payloads these tests read (the SDK's own types arrive with the SDK).
interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  service_tier?: string;
}

interface ContentBlock {
  type: string;
  text?: string;
  input?: Record<string, unknown>;
}

interface Message {
  id: string;
  content: ContentBlock[];
  stop_reason: string | null;
  usage: Usage;
}

interface StreamEventData {
  type: string;
  message?: Message;
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string };
  usage?: Usage;
}

interface ErrorBody {
  type: string;
  error: { type: string; message: string };
  request_id?: string;
}

interface SseEvent {
  /** The name on the `event:` line. */
  name: string | undefined;
  data: StreamEventData;
}

const recordedMessage = JSON.parse(readFixture(ANTHROPIC_FIXTURE_FILES.message)) as Message;
const recordedToolUseMessage = JSON.parse(readFixture(ANTHROPIC_FIXTURE_FILES.toolUseMessage)) as Message;
const recordedStreamText = readFixture(ANTHROPIC_FIXTURE_FILES.stream);
const recordedToolUseStreamText = readFixture(ANTHROPIC_FIXTURE_FILES.toolUseStream);

const question = [{ role: 'user', content: 'What is the weather in San Francisco?' }];
const tools = [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];

let mock: MockLlm;

/** Posts to /v1/messages the way the Anthropic SDK does, from the Anthropic base URL. */
async function postMessages(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${mock.anthropicUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test', 'anthropic-version': '2023-06-01', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function messagesRequest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'claude-sonnet-4-5', max_tokens: 256, messages: question, ...extra };
}

/** Parses an SSE transcript; a data line that is not JSON fails the parse, as it would in a client. */
function parseSse(transcript: string): SseEvent[] {
  return transcript
    .split('\n\n')
    .filter((block) => block.length > 0)
    .map((block) => {
      const lines = block.split('\n');
      const name = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length);
      const data = lines.find((line) => line.startsWith('data: '))?.slice('data: '.length) ?? '';
      return { name, data: JSON.parse(data) as StreamEventData };
    });
}

function joinedText(events: SseEvent[]): string {
  return events
    .filter((event) => event.data.type === 'content_block_delta' && event.data.delta?.type === 'text_delta')
    .map((event) => event.data.delta?.text ?? '')
    .join('');
}

/** Reads a body as it arrives; a cut connection ends the read with an error instead of a value. */
async function readUntilEnd(response: Response): Promise<{ text: string; arrivals: Array<{ text: string; at: number }>; error: unknown }> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const arrivals: Array<{ text: string; at: number }> = [];
  let error: unknown;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) arrivals.push({ text: read.value, at: performance.now() });
  } catch (caught) {
    error = caught;
  }
  return { text: arrivals.map((arrival) => arrival.text).join(''), arrivals, error };
}

before(async () => {
  mock = await startMockLlm();
});

after(async () => {
  await mock.close();
});

beforeEach(() => {
  mock.reset();
  mock.setMode('replay');
});

describe('anthropic replay', () => {
  test('a plain message is the recorded bytes, with the recorded text and usage', async () => {
    const response = await postMessages(messagesRequest());
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.match(response.headers.get('request-id') ?? '', /^req_mock\d+$/);
    const text = await response.text();
    assert.equal(text, readFixture(ANTHROPIC_FIXTURE_FILES.message));
    const message = JSON.parse(text) as Message;
    assert.equal(message.content[0]?.text, recordedMessage.content[0]?.text);
    assert.deepEqual(message.usage, recordedMessage.usage);
    assert.equal(message.usage.input_tokens, 12);
  });

  test('the path also answers under the OpenAI base URL, which ends in /v1', async () => {
    const response = await fetch(`${mock.url}/messages`, { method: 'POST', body: JSON.stringify(messagesRequest()) });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as Message).id, recordedMessage.id);
  });

  test('a stream is the recorded transcript byte for byte, event: lines and padding included', async () => {
    const response = await postMessages(messagesRequest({ stream: true }));
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const text = await response.text();
    assert.equal(text, recordedStreamText);
    const events = parseSse(text);
    assert.deepEqual(
      events.map((event) => event.name),
      events.map((event) => event.data.type),
    );
    assert.equal(events.at(-1)?.name, 'message_stop');
  });

  test('a request with tools gets the recorded tool_use message', async () => {
    const response = await postMessages(messagesRequest({ tools }));
    const message = (await response.json()) as Message;
    assert.deepEqual(message, recordedToolUseMessage);
    assert.equal(message.stop_reason, 'tool_use');
    const toolUses = message.content.filter((block) => block.type === 'tool_use');
    assert.deepEqual(
      toolUses.map((block) => block.input?.['name']),
      ['Alice', 'Bob', 'Charlie', 'Daisy'],
    );
  });

  test('a streamed request with tools gets the recorded input_json_delta fragments', async () => {
    const response = await postMessages(messagesRequest({ tools, stream: true }));
    const text = await response.text();
    assert.equal(text, recordedToolUseStreamText);
    const events = parseSse(text);
    const fragments = events.filter((event) => event.data.delta?.type === 'input_json_delta').map((event) => String(event.data.delta?.partial_json));
    assert.ok(fragments.length > 10);
    assert.deepEqual(Object.keys(JSON.parse(fragments.join('')) as Record<string, unknown>), ['name', 'age', 'bio']);
    assert.equal(events.find((event) => event.data.type === 'message_delta')?.data.delta?.stop_reason, 'tool_use');
  });
});

describe('anthropic echo', () => {
  const text = 'Call Ada Lovelace at +44 20 7946 0958, née Byron 😀.';
  const system = 'You repeat things.';
  const messages = [
    { role: 'user', content: 'an earlier question' },
    { role: 'assistant', content: [{ type: 'text', text: 'an earlier answer' }] },
    { role: 'user', content: text },
  ];
  const inputWords = countWords(system) + countWords('an earlier question') + countWords('an earlier answer') + countWords(text);

  test('a streamed echo joins to the user text exactly, in small odd text_delta pieces', async () => {
    mock.setMode('echo');
    const events = parseSse(await (await postMessages(messagesRequest({ system, messages, stream: true }))).text());
    assert.equal(joinedText(events), text);
    const pieces = events.filter((event) => event.data.type === 'content_block_delta').map((event) => String(event.data.delta?.text));
    assert.ok(pieces.length > 10);
    assert.ok(pieces.every((piece) => Array.from(piece).length <= 4));
    assert.ok(new Set(pieces.map((piece) => Array.from(piece).length)).size > 1, 'piece sizes vary');
    assert.deepEqual(
      events.map((event) => event.name),
      events.map((event) => event.data.type),
    );
    const recordedStart = parseSse(recordedStreamText)[0]?.data;
    const start = events[0]?.data;
    assert.equal(start?.message?.id, recordedStart?.message?.id);
    assert.equal(start?.message?.usage.input_tokens, inputWords);
    const delta = events.find((event) => event.data.type === 'message_delta')?.data;
    assert.equal(delta?.delta?.stop_reason, 'end_turn');
    assert.equal(delta?.usage?.output_tokens, countWords(text));
    assert.equal(delta?.usage?.input_tokens, inputWords);
    assert.equal(events.at(-1)?.data.type, 'message_stop');
  });

  test('a non-streaming echo returns the joined text blocks in the recorded shape', async () => {
    mock.setMode('echo');
    const response = await postMessages(
      messagesRequest({
        system: [{ type: 'text', text: 'Be brief.' }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'first part' }, { type: 'text', text: 'second part' }] }],
        tools,
      }),
    );
    const message = (await response.json()) as Message;
    assert.deepEqual(message.content, [{ type: 'text', text: 'first part\nsecond part' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.id, recordedMessage.id);
    assert.equal(message.usage.input_tokens, 6);
    assert.equal(message.usage.output_tokens, 4);
    assert.equal(message.usage.service_tier, recordedMessage.usage.service_tier);
  });
});

describe('anthropic faults', () => {
  test('status 429 is a rate_limit_error with Retry-After', async () => {
    mock.setFaults({ status: 429, retryAfterSeconds: 3 });
    const response = await postMessages(messagesRequest());
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '3');
    const body = (await response.json()) as ErrorBody;
    assert.deepEqual(Object.keys(body), ['type', 'error', 'request_id']);
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'rate_limit_error');
    assert.equal(body.request_id, response.headers.get('request-id'));
  });

  test('statuses 500 and 529 are api_error and overloaded_error; 400 is the recorded body', async () => {
    for (const [status, type] of [
      [500, 'api_error'],
      [529, 'overloaded_error'],
      [503, 'overloaded_error'],
    ] as const) {
      mock.setFaults({ status });
      const response = await postMessages(messagesRequest({ stream: true }));
      assert.equal(response.status, status);
      assert.equal(response.headers.get('retry-after'), null);
      assert.equal(((await response.json()) as ErrorBody).error.type, type);
    }
    mock.setFaults({ status: 400 });
    const badRequest = await postMessages(messagesRequest());
    assert.equal(await badRequest.text(), readFixture(ANTHROPIC_FIXTURE_FILES.badRequestError));
  });

  test('headersDelayMs holds the headers back', async () => {
    mock.setFaults({ headersDelayMs: 150 });
    const startedAt = performance.now();
    await (await postMessages(messagesRequest())).text();
    assert.ok(performance.now() - startedAt >= 140);
  });

  test('chunkDelayMs sends the recorded events one by one, spread in time', async () => {
    const delayMs = 20;
    mock.setFaults({ chunkDelayMs: delayMs });
    const { text, arrivals } = await readUntilEnd(await postMessages(messagesRequest({ stream: true })));
    assert.equal(text, recordedStreamText);
    const eventCount = parseSse(recordedStreamText).length;
    assert.ok(arrivals.length >= eventCount - 1, `${arrivals.length} reads for ${eventCount} events`);
    const spread = (arrivals.at(-1)?.at ?? 0) - (arrivals[0]?.at ?? 0);
    assert.ok(spread >= (eventCount - 1) * delayMs * 0.5, `spread ${spread} ms over ${eventCount} events`);
  });

  test('cutAfterChunks ends the connection after that many events, before message_stop', async () => {
    mock.setFaults({ cutAfterChunks: 5 });
    const { text, error } = await readUntilEnd(await postMessages(messagesRequest({ stream: true })));
    assert.ok(error, 'the read fails instead of ending');
    const recordedEvents = recordedStreamText.split('\n\n').filter((event) => event.length > 0);
    assert.equal(text, recordedEvents.slice(0, 5).map((event) => `${event}\n\n`).join(''));
    // Even an allowance beyond the stream's length never sends the final event.
    mock.setFaults({ cutAfterChunks: 1_000 });
    const long = await readUntilEnd(await postMessages(messagesRequest({ stream: true })));
    assert.ok(long.error);
    assert.equal(parseSse(long.text).length, recordedEvents.length - 1);
    assert.notEqual(parseSse(long.text).at(-1)?.data.type, 'message_stop');
  });

  test('omitUsage empties usage in the message and in message_start / message_delta, keeping the rest', async () => {
    mock.setFaults({ omitUsage: true });
    const message = (await (await postMessages(messagesRequest())).json()) as Message;
    assert.deepEqual(message.usage, {});
    assert.deepEqual(message.content, recordedMessage.content);
    const events = parseSse(await (await postMessages(messagesRequest({ stream: true }))).text());
    assert.deepEqual(events[0]?.data.message?.usage, {});
    const delta = events.find((event) => event.data.type === 'message_delta');
    assert.deepEqual(delta?.data.usage, {});
    assert.equal(delta?.data.delta?.stop_reason, 'end_turn');
    assert.equal(delta?.name, 'message_delta');
    assert.equal(joinedText(events), joinedText(parseSse(recordedStreamText)));
  });

  test('malformedJson breaks the JSON body and one SSE data line', async () => {
    mock.setFaults({ malformedJson: true });
    const body = await (await postMessages(messagesRequest())).text();
    assert.throws(() => JSON.parse(body));
    const transcript = await (await postMessages(messagesRequest({ stream: true }))).text();
    assert.throws(() => parseSse(transcript));
    const events = transcript.split('\n\n').filter((event) => event.length > 0);
    const unparsable = events.filter((event) => {
      try {
        parseSse(event);
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(unparsable.length, 1);
    assert.match(unparsable[0] ?? '', /^event: content_block_start\n/);
    assert.doesNotThrow(() => parseSse(events[0] ?? ''), 'message_start stays valid');
  });
});

describe('anthropic requests', () => {
  test('received records the request like OpenAI ones', async () => {
    await (await postMessages(messagesRequest({ temperature: 0 }))).text();
    assert.equal(mock.received.length, 1);
    const request = mock.received[0];
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/v1/messages');
    assert.equal(request?.headers['x-api-key'], 'test');
    assert.equal(request?.headers['anthropic-version'], '2023-06-01');
    assert.deepEqual(JSON.parse(request?.body ?? ''), messagesRequest({ temperature: 0 }));
  });

  test('invalid JSON is a 400 invalid_request_error in Anthropic error shape', async () => {
    const response = await postMessages('{"model": "claude-sonnet-4-5",');
    assert.equal(response.status, 400);
    const body = (await response.json()) as ErrorBody;
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(String(body.error.message), /^The request body is not valid JSON: /);
  });

  test('a missing model, max_tokens or messages is a 400 naming the field', async () => {
    for (const field of ['model', 'max_tokens', 'messages']) {
      const request = messagesRequest();
      delete request[field];
      const response = await postMessages(request);
      assert.equal(response.status, 400, field);
      const body = (await response.json()) as ErrorBody;
      assert.deepEqual(body.error, { type: 'invalid_request_error', message: `${field}: Field required` });
    }
    const empty = await postMessages(messagesRequest({ messages: [] }));
    assert.equal(empty.status, 400);
    assert.equal(mock.received.length, 4);
  });
});
