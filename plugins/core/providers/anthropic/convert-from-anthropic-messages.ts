// Converts an Anthropic Messages request from a client into the gateway's pivot, an OpenAI chat request.
import { badRequest } from '../../errors';
import type { OpenAIChatRequest } from '../openai/openai-chat-schemas';
import type { AnthropicMessagesRequest } from './anthropic-request-schema';

type Json = Record<string, unknown>;

/** Anthropic request fields that OpenAI-shaped requests cannot carry: refused rather than dropped. */
const UNSUPPORTED = ['top_k', 'thinking', 'container', 'mcp_servers', 'service_tier'];

export function convertFromAnthropicMessages(request: AnthropicMessagesRequest): OpenAIChatRequest {
  const raw = request as Json;
  for (const field of UNSUPPORTED) {
    if (raw[field] !== undefined && raw[field] !== null) throw badRequest(`Unsupported parameter: '${field}' cannot be honoured by this gateway route yet.`, 'unsupported_parameter');
  }
  const messages: Json[] = [];
  const system = typeof request.system === 'string' ? request.system : (request.system ?? []).map((block) => block.text).join('\n');
  if (system !== '') messages.push({ role: 'system', content: system });
  request.messages.forEach((message, index) => {
    const where = `messages[${index}]`;
    const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : (message.content as Json[]);
    if (message.role === 'assistant') messages.push(assistantMessage(blocks, where));
    else messages.push(...userMessages(blocks, where));
  });

  const body: Json = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.stream) body.stream = true;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.top_p !== undefined) body.top_p = request.top_p;
  if (request.stop_sequences?.length) body.stop = request.stop_sequences;
  if (typeof request.metadata?.user_id === 'string') body.user = request.metadata.user_id;
  if (request.tools?.length) {
    body.tools = request.tools.map((tool) => ({ type: 'function', function: { name: tool.name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.input_schema ?? { type: 'object', properties: {} } } }));
  }
  if (request.tool_choice) {
    const choice = request.tool_choice;
    body.tool_choice = choice.type === 'any' ? 'required' : choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : choice.type;
    if (choice.disable_parallel_tool_use) body.parallel_tool_calls = false;
  }
  return body as OpenAIChatRequest;
}

/** A user turn: its tool results become `tool` messages first (OpenAI's order), then the rest as one user message. */
function userMessages(blocks: Json[], where: string): Json[] {
  const toolMessages: Json[] = [];
  const parts: Json[] = [];
  blocks.forEach((block, index) => {
    const at = `${where}.content[${index}]`;
    if (block.type === 'tool_result') toolMessages.push({ role: 'tool', tool_call_id: block.tool_use_id, content: toolResultText(block.content, at) });
    else if (block.type === 'text') parts.push({ type: 'text', text: block.text });
    else if (block.type === 'image') parts.push({ type: 'image_url', image_url: { url: imageUrl(block.source as Json, at) } });
    else throw badRequest(`Invalid value for '${at}.type': '${String(block.type)}' is not supported in user messages by this gateway.`, 'unsupported_parameter');
  });
  if (parts.length === 0) return toolMessages;
  const onlyText = parts.every((part) => part.type === 'text');
  return [...toolMessages, { role: 'user', content: onlyText ? parts.map((part) => part.text).join('\n') : parts }];
}

function assistantMessage(blocks: Json[], where: string): Json {
  const text: string[] = [];
  const toolCalls: Json[] = [];
  blocks.forEach((block, index) => {
    if (block.type === 'text') text.push(String(block.text));
    else if (block.type === 'tool_use') toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    // Earlier thinking is the model's own scratch space: not part of what other providers can take back.
    else if (block.type !== 'thinking' && block.type !== 'redacted_thinking') {
      throw badRequest(`Invalid value for '${where}.content[${index}].type': '${String(block.type)}' is not supported in assistant messages by this gateway.`, 'unsupported_parameter');
    }
  });
  return { role: 'assistant', content: text.length ? text.join('') : null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
}

function toolResultText(content: unknown, where: string): string {
  if (content === undefined || typeof content === 'string') return content ?? '';
  return (content as Json[])
    .map((part, index) => {
      if (part.type !== 'text') throw badRequest(`Invalid value for '${where}.content[${index}]': only text is supported in tool results by this gateway.`, 'unsupported_parameter');
      return String(part.text);
    })
    .join('\n');
}

function imageUrl(source: Json, where: string): string {
  if (source.type === 'base64') return `data:${String(source.media_type)};base64,${String(source.data)}`;
  if (source.type === 'url') return String(source.url);
  throw badRequest(`Invalid value for '${where}.source.type'.`, 'invalid_request_body');
}
