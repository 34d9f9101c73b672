// An HTTP proxy between the connector and the mock provider that keeps every exchange, so what the provider sent is measured, not assumed.
import http from 'node:http';

export interface Exchange {
  path: string;
  requestBody: string;
  status: number;
  contentType: string;
  /** The response as the provider sent it (whole JSON, or the SSE text with every event). */
  responseBody: string;
}

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  /** The provider it forwards to (the mock's base URL, ending in /v1); set before the first request. */
  setUpstream(baseUrl: string): void;
  close(): Promise<void>;
}

/** Token counts as a provider reports them (OpenAI's field names). */
export interface ReportedUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** Starts on a free loopback port; responses are passed on chunk by chunk, so streams keep their pacing. */
export async function startRecordingProxy(): Promise<RecordingProxy> {
  let upstream: URL | null = null;
  const exchanges: Exchange[] = [];
  const server = http.createServer((request, response) => {
    if (upstream === null) {
      response.writeHead(502).end('no upstream set');
      return;
    }
    // The path after the proxy's own /v1 is appended to the upstream's base URL.
    const target = new URL(`${upstream.pathname.replace(/\/$/, '')}${(request.url ?? '/').replace(/^\/v1/, '')}`, upstream);
    const requestChunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => requestChunks.push(chunk));
    request.on('end', () => {
      const requestBody = Buffer.concat(requestChunks);
      const headers = { ...request.headers, host: target.host, 'content-length': String(requestBody.length) };
      const forward = http.request(target, { method: request.method, headers }, (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        response.flushHeaders();
        const responseChunks: Buffer[] = [];
        upstreamResponse.on('data', (chunk: Buffer) => {
          responseChunks.push(chunk);
          response.write(chunk);
        });
        upstreamResponse.on('end', () => {
          exchanges.push({
            path: request.url ?? '/',
            requestBody: requestBody.toString('utf8'),
            status: upstreamResponse.statusCode ?? 0,
            contentType: String(upstreamResponse.headers['content-type'] ?? ''),
            responseBody: Buffer.concat(responseChunks).toString('utf8'),
          });
          response.end();
        });
        upstreamResponse.on('error', () => response.destroy());
      });
      forward.on('error', () => response.destroy());
      // A client that leaves takes the provider call with it, as a direct connection would.
      response.on('close', () => forward.destroy());
      forward.end(requestBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    exchanges,
    setUpstream: (baseUrl) => void (upstream = new URL(baseUrl)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The JSON objects of an SSE transcript's `data:` lines, in order ([DONE] and broken lines left out). */
export function sseDataObjects(transcript: string): Array<Record<string, unknown>> {
  const objects: Array<Record<string, unknown>> = [];
  for (const event of transcript.split(/\r?\n\r?\n/)) {
    for (const line of event.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      try {
        const value: unknown = JSON.parse(line.slice(5).trim());
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) objects.push(value as Record<string, unknown>);
      } catch {
        // [DONE] and anything else that is not a JSON object
      }
    }
  }
  return objects;
}

/** The usage a provider reported in one exchange: the JSON body's `usage`, or a stream's last usage chunk; null when it sent none. */
export function reportedUsage(exchange: Pick<Exchange, 'contentType' | 'responseBody'>): ReportedUsage | null {
  const candidates = exchange.contentType.includes('text/event-stream') ? sseDataObjects(exchange.responseBody) : [safeJson(exchange.responseBody)];
  let usage: ReportedUsage | null = null;
  for (const candidate of candidates) {
    const value = candidate?.usage as Partial<ReportedUsage> | undefined;
    if (typeof value?.prompt_tokens === 'number' && typeof value.completion_tokens === 'number') usage = { prompt_tokens: value.prompt_tokens, completion_tokens: value.completion_tokens };
  }
  return usage;
}

/** The content text of each streamed chunk of an OpenAI stream (first choice), in order: the provider's chunk boundaries. */
export function streamedContentPieces(transcript: string): string[] {
  const pieces: string[] = [];
  for (const chunk of sseDataObjects(transcript)) {
    const choices = chunk.choices as Array<{ delta?: { content?: unknown } }> | undefined;
    const content = choices?.[0]?.delta?.content;
    if (typeof content === 'string' && content !== '') pieces.push(content);
  }
  return pieces;
}

function safeJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
