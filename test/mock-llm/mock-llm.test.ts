// Tests for the mock LLM, driven by the official openai client so the mock is held to what real SDK users see.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI, { APIConnectionTimeoutError, BadRequestError, RateLimitError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { FIXTURE_FILES, countWords, resolveFixturesDirectory, startMockLlm, type MockLlm } from './mock-llm';

const fixturesDirectory = resolveFixturesDirectory();
const readFixture = (name: string): string => readFileSync(path.join(fixturesDirectory, name), 'utf8');

const recordedCompletion = JSON.parse(readFixture(FIXTURE_FILES.completion)) as OpenAI.Chat.ChatCompletion;
const recordedStreamText = readFixture(FIXTURE_FILES.stream);
const recordedStreamEvents = recordedStreamText.split('\n\n').filter((event) => event.length > 0);
const recordedUsageEvent = recordedStreamEvents.find((event) => event.includes('"choices":[]'));

const question: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in San Francisco?' }];

let mock: MockLlm;

function client(options: { timeout?: number } = {}): OpenAI {
  // No retries: each test sees exactly the one response the mock sent.
  return new OpenAI({ baseURL: mock.url, apiKey: 'test', maxRetries: 0, ...options });
}

function streamRequest(includeUsage: boolean, messages = question): ChatCompletionCreateParamsStreaming {
  return { model: 'gpt-4o', messages, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) };
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<Array<{ chunk: ChatCompletionChunk; at: number }>> {
  const chunks: Array<{ chunk: ChatCompletionChunk; at: number }> = [];
  for await (const chunk of stream) chunks.push({ chunk, at: performance.now() });
  return chunks;
}

function joinedContent(chunks: ChatCompletionChunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

async function postRaw(pathname: string, body: string): Promise<Response> {
  return fetch(mock.url + pathname, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
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

describe('replay', () => {
  test('a plain completion returns the recorded content and usage', async () => {
    const completion = await client().chat.completions.create({ model: 'gpt-4.1-nano', messages: question });
    assert.equal(completion.choices[0]?.message.content, recordedCompletion.choices[0]?.message.content);
    assert.deepEqual(completion.usage, recordedCompletion.usage);
    assert.equal(completion.id, recordedCompletion.id);
  });

  test('the non-streaming body is the recorded bytes', async () => {
    const response = await postRaw('/chat/completions', JSON.stringify({ model: 'gpt-4.1-nano', messages: question }));
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.text(), readFixture(FIXTURE_FILES.completion));
  });

  test('a stream with include_usage is the recorded transcript byte for byte', async () => {
    const response = await postRaw('/chat/completions', JSON.stringify(streamRequest(true)));
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(await response.text(), recordedStreamText);
  });

  test('without include_usage only the usage chunk is dropped', async () => {
    const response = await postRaw('/chat/completions', JSON.stringify(streamRequest(false)));
    const expected = recordedStreamEvents.filter((event) => event !== recordedUsageEvent).map((event) => `${event}\n\n`).join('');
    assert.equal(await response.text(), expected);
  });

  test('include_usage toggles the usage chunk for the SDK', async () => {
    const withUsage = (await collect(await client().chat.completions.create(streamRequest(true)))).map(({ chunk }) => chunk);
    const withoutUsage = (await collect(await client().chat.completions.create(streamRequest(false)))).map(({ chunk }) => chunk);
    const usageChunks = withUsage.filter((chunk) => chunk.usage);
    assert.equal(usageChunks.length, 1);
    assert.deepEqual(usageChunks[0]?.choices, []);
    assert.equal(usageChunks[0]?.usage?.total_tokens, 44);
    assert.equal(withoutUsage.filter((chunk) => chunk.usage).length, 0);
    assert.equal(withoutUsage.length, withUsage.length - 1);
    assert.equal(joinedContent(withoutUsage), joinedContent(withUsage));
  });

  test('requests with tools get the recorded parallel tool calls', async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_stock_price', parameters: { type: 'object' } } }];
    const completion = await client().chat.completions.create({ model: 'gpt-4o', messages: question, tools });
    assert.equal(completion.choices[0]?.finish_reason, 'tool_calls');
    assert.equal(completion.choices[0]?.message.tool_calls?.length, 2);
    const chunks = (await collect(await client().chat.completions.create({ ...streamRequest(false), tools }))).map(({ chunk }) => chunk);
    const names = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []).flatMap((call) => (call.function?.name ? [call.function.name] : []));
    assert.deepEqual(names, ['GetWeatherArgs', 'get_stock_price']);
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'tool_calls');
  });

  test('GET /models lists the replayed models', async () => {
    const models = await client().models.list();
    assert.ok(models.data.some((model) => model.id === 'gpt-4o-2024-08-06'));
  });
});

describe('faults', () => {
  test('chunkDelayMs spreads the chunks in time', async () => {
    const delayMs = 10;
    mock.setFaults({ chunkDelayMs: delayMs });
    const chunks = await collect(await client().chat.completions.create(streamRequest(false)));
    const contentArrivals = chunks.filter(({ chunk }) => chunk.choices[0]?.delta.content).map(({ at }) => at);
    const first = contentArrivals[0] ?? 0;
    const last = contentArrivals.at(-1) ?? 0;
    assert.ok(contentArrivals.length > 10);
    assert.ok(last - first >= (contentArrivals.length - 1) * delayMs * 0.5, `spread ${last - first} ms over ${contentArrivals.length} chunks`);
  });

  test('status 429 gives RateLimitError with Retry-After', async () => {
    mock.setFaults({ status: 429, retryAfterSeconds: 3 });
    const error = await client().chat.completions.create({ model: 'gpt-4o', messages: question }).catch((caught: unknown) => caught);
    assert.ok(error instanceof RateLimitError, String(error));
    assert.equal(error.status, 429);
    assert.equal(error.headers.get('retry-after'), '3');
    assert.equal(error.code, 'rate_limit_exceeded');
  });

  test('status 429 defaults Retry-After to 1 second', async () => {
    mock.setFaults({ status: 429 });
    const response = await postRaw('/chat/completions', JSON.stringify({ model: 'gpt-4o', messages: question }));
    assert.equal(response.headers.get('retry-after'), '1');
    const body = (await response.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  });

  test('cutAfterChunks makes the SDK stream throw', async () => {
    mock.setFaults({ cutAfterChunks: 5 });
    const received: ChatCompletionChunk[] = [];
    const stream = await client().chat.completions.create(streamRequest(true));
    await assert.rejects(async () => {
      for await (const chunk of stream) received.push(chunk);
    });
    // Every event written before the cut arrives; only the end of the stream is missing.
    assert.equal(received.length, 5);
  });

  test('omitUsage leaves out usage in JSON and the usage chunk in streams', async () => {
    mock.setFaults({ omitUsage: true });
    const completion = await client().chat.completions.create({ model: 'gpt-4o', messages: question });
    assert.equal(completion.usage, undefined);
    assert.equal(completion.choices[0]?.message.content, recordedCompletion.choices[0]?.message.content);
    const chunks = (await collect(await client().chat.completions.create(streamRequest(true)))).map(({ chunk }) => chunk);
    assert.equal(chunks.filter((chunk) => chunk.usage).length, 0);
  });

  test('headersDelayMs holds the headers back', async () => {
    mock.setFaults({ headersDelayMs: 150 });
    const startedAt = performance.now();
    await client().chat.completions.create({ model: 'gpt-4o', messages: question });
    assert.ok(performance.now() - startedAt >= 140);
  });

  test('headersDelayMs beyond the client timeout gives a timeout error', async () => {
    mock.setFaults({ headersDelayMs: 2_000 });
    const error = await client({ timeout: 100 }).chat.completions.create({ model: 'gpt-4o', messages: question }).catch((caught: unknown) => caught);
    assert.ok(error instanceof APIConnectionTimeoutError, String(error));
  });

  test('malformedJson breaks the JSON body', async () => {
    mock.setFaults({ malformedJson: true });
    await assert.rejects(client().chat.completions.create({ model: 'gpt-4o', messages: question }));
  });

  test('malformedJson breaks an SSE data line', async () => {
    mock.setFaults({ malformedJson: true });
    const originalError = console.error;
    // The SDK logs the unparsable line before throwing; keep the test output clean.
    console.error = () => undefined;
    try {
      const stream = await client().chat.completions.create(streamRequest(false));
      await assert.rejects(collect(stream));
    } finally {
      console.error = originalError;
    }
  });

  test('setFaults({}) clears the faults', async () => {
    mock.setFaults({ status: 500 });
    mock.setFaults({});
    const completion = await client().chat.completions.create({ model: 'gpt-4o', messages: question });
    assert.equal(completion.object, 'chat.completion');
  });
});

describe('echo', () => {
  const text = 'Call Ada Lovelace at +44 20 7946 0958, née Byron 😀.';
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You repeat things.' },
    { role: 'user', content: 'an earlier question' },
    { role: 'assistant', content: 'an earlier answer' },
    { role: 'user', content: text },
  ];

  test('a streamed echo joins to the user text exactly, in small odd pieces', async () => {
    mock.setMode('echo');
    const chunks = (await collect(await client().chat.completions.create(streamRequest(true, messages)))).map(({ chunk }) => chunk);
    assert.equal(joinedContent(chunks), text);
    const pieces = chunks.map((chunk) => chunk.choices[0]?.delta.content).filter((piece): piece is string => Boolean(piece));
    assert.ok(pieces.length > 10);
    assert.ok(pieces.every((piece) => Array.from(piece).length <= 4));
    assert.ok(new Set(pieces.map((piece) => Array.from(piece).length)).size > 1, 'piece sizes vary');
    const usage = chunks.at(-1)?.usage;
    const promptWords = messages.reduce((total, message) => total + countWords(String(message.content)), 0);
    assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens, usage?.total_tokens], [promptWords, countWords(text), promptWords + countWords(text)]);
    assert.equal(chunks[0]?.id, recordedStreamEvents[0] && (JSON.parse(recordedStreamEvents[0].slice(6)) as { id: string }).id);
  });

  test('a non-streaming echo returns the text of the joined parts in the recorded shape', async () => {
    mock.setMode('echo');
    const completion = await client().chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'first part' }, { type: 'text', text: 'second part' }] }],
    });
    assert.equal(completion.choices[0]?.message.content, 'first part\nsecond part');
    assert.equal(completion.choices[0]?.finish_reason, 'stop');
    assert.equal(completion.id, recordedCompletion.id);
    assert.equal(completion.usage?.completion_tokens, 4);
    assert.equal(completion.usage?.prompt_tokens, 4);
  });
});

describe('requests', () => {
  test('received records method, path, headers and body', async () => {
    await client().chat.completions.create({ model: 'gpt-4o', messages: question, temperature: 0 });
    assert.equal(mock.received.length, 1);
    const request = mock.received[0];
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/v1/chat/completions');
    assert.equal(request?.headers['authorization'], 'Bearer test');
    assert.deepEqual(JSON.parse(request?.body ?? ''), { model: 'gpt-4o', messages: question, temperature: 0 });
    assert.ok(Math.abs((request?.receivedAt ?? 0) - Date.now()) < 5_000);
  });

  test('invalid JSON is a 400 in the OpenAI error shape', async () => {
    const response = await postRaw('/chat/completions', '{"model": "gpt-4o",');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    assert.equal(body.error['type'], 'invalid_request_error');
    assert.equal(body.error['param'], null);
    assert.equal(body.error['code'], null);
    assert.match(String(body.error['message']), /could not parse the JSON body/);
  });

  test('missing messages or model is a 400 BadRequestError', async () => {
    const noMessages = await postRaw('/chat/completions', JSON.stringify({ model: 'gpt-4o' }));
    assert.equal(noMessages.status, 400);
    assert.equal(((await noMessages.json()) as { error: { param: string } }).error.param, 'messages');
    const error = await client()
      .chat.completions.create({ messages: question } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming)
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof BadRequestError, String(error));
    assert.equal(error.type, 'invalid_request_error');
  });

  test('the /__mock control endpoints switch faults and mode, list and reset', async () => {
    const base = mock.url.replace(/\/v1$/, '');
    await fetch(`${base}/__mock/faults`, { method: 'POST', body: JSON.stringify({ status: 503 }) });
    const failed = await postRaw('/chat/completions', JSON.stringify({ model: 'gpt-4o', messages: question }));
    assert.equal(failed.status, 503);
    await fetch(`${base}/__mock/mode`, { method: 'POST', body: JSON.stringify({ mode: 'echo' }) });
    await fetch(`${base}/__mock/faults`, { method: 'POST', body: '{}' });
    const echoed = (await (await postRaw('/chat/completions', JSON.stringify({ model: 'gpt-4o', messages: question }))).json()) as OpenAI.Chat.ChatCompletion;
    assert.equal(echoed.choices[0]?.message.content, 'What is the weather in San Francisco?');
    const received = (await (await fetch(`${base}/__mock/received`)).json()) as unknown[];
    assert.equal(received.length, 2);
    await fetch(`${base}/__mock/reset`, { method: 'POST' });
    assert.equal(mock.received.length, 0);
    const badFaults = await fetch(`${base}/__mock/faults`, { method: 'POST', body: JSON.stringify({ status: 'often' }) });
    assert.equal(badFaults.status, 400);
  });
});

test('main.js listens, logs one line and exits cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, [path.join(__dirname, 'main.js'), '--port', '0', '--host', '127.0.0.1', '--mode', 'echo'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.once('data', (data: string) => resolve(data));
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
  const port = /listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1];
  assert.ok(port, line);
  const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'ping' }] }) });
  assert.equal(((await response.json()) as OpenAI.Chat.ChatCompletion).choices[0]?.message.content, 'ping');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
