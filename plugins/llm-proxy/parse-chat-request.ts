// Reads a client's chat completion request: size, JSON, then the fields the gateway relies on.
import { z } from 'zod';
import { GatewayError, badRequest } from '../core/errors';
import { openAIChatRequest, type OpenAIChatRequest } from '../core/providers/openai/openai-chat-schemas';

export function parseChatRequest(rawBody: Buffer, maxBytes: number): OpenAIChatRequest {
  if (rawBody.length > maxBytes) {
    throw new GatewayError(`The request body is ${rawBody.length} bytes; this route accepts at most ${maxBytes}.`, {
      status: 413,
      type: 'invalid_request_error',
      code: 'request_too_large',
    });
  }
  if (rawBody.length === 0) throw badRequest('The request body is empty; send a JSON chat completion request.', 'missing_body');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(rawBody));
  } catch (error) {
    const what = error instanceof SyntaxError ? 'is not valid JSON' : 'is not valid UTF-8';
    throw badRequest(`The request body ${what}.`, 'invalid_json');
  }
  const parsed = openAIChatRequest.safeParse(json);
  if (!parsed.success) throw badRequest(describeIssue(parsed.error), 'invalid_request_body');
  return parsed.data;
}

/** OpenAI names the offending parameter in its message; so do we, for the first problem found. */
function describeIssue(error: z.ZodError): string {
  const [issue] = error.issues;
  if (!issue) return 'The request body is invalid.';
  const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
  if (path === '') return `The request body must be a JSON object: ${issue.message}.`;
  return `Invalid value for '${path}': ${issue.message}.`;
}
