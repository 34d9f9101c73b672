// The answer side of prompt-guard: deny patterns and system-prompt leaks, checked chunk by chunk as the answer streams.
import { AnswerRefused } from '../core/errors';
import type { ResponseChunk, StreamHooks } from '../core/connector/stream-hooks';
import { patternMatches } from './compile-pattern';

export interface OutputGuardSettings {
  denyPatterns: string[];
  /** The system prompt to watch for, or null when leaks are not checked. */
  systemPrompt: string | null;
  leakMinCharacters: number;
  blockMessage: string;
}

/** How much of the answer before a chunk the patterns see again with it: a match must fit in this plus the chunk. */
const PATTERN_OVERLAP = 1024;

/** The longest system prompt watched for leaks (its start): bounds the windows kept per request. */
const MAX_WATCHED_SYSTEM_PROMPT = 20_000;

/** How much normalised answer is kept between chunks for leak windows. */
const NORMALISED_TAIL = 8192;

/** Text deltas of one chunk in the client's format: OpenAI chunks or bodies, Anthropic events or bodies. */
export function answerTextOf(chunk: ResponseChunk): string {
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = JSON.parse(chunk.data);
  } catch {
    return ''; // [DONE] and the like
  }
  let text = '';
  for (const choice of Array.isArray(json?.choices) ? json.choices : []) text += choice?.delta?.content ?? choice?.message?.content ?? '';
  if (json?.type === 'content_block_delta' && typeof json.delta?.text === 'string') text += json.delta.text;
  if (json?.type === 'message') for (const block of Array.isArray(json.content) ? json.content : []) if (typeof block?.text === 'string') text += block.text;
  return typeof text === 'string' ? text : '';
}

/** Lower-cased with whitespace runs as one space: a leak reworded only in spacing or case is still a leak. */
function normalise(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ');
}

/**
 * Hooks that watch the answer. `onTrip` decides: it returns true to stop the answer (the stream ends with
 * an error event, a whole answer becomes an error), false to let it go on (flag and log_only).
 */
export function outputGuardHooks(settings: OutputGuardSettings, onTrip: (reason: string) => boolean): StreamHooks {
  const windows = new Set<string>();
  if (settings.systemPrompt !== null) {
    const system = normalise(settings.systemPrompt.slice(0, MAX_WATCHED_SYSTEM_PROMPT));
    for (let start = 0; start + settings.leakMinCharacters <= system.length; start += 1) windows.add(system.slice(start, start + settings.leakMinCharacters));
  }
  let tail = '';
  let normalised = '';
  let tripped = false;
  return {
    name: 'prompt-guard-output',
    onChunk(chunk) {
      if (tripped) return [chunk];
      const text = answerTextOf(chunk);
      if (text === '') return [chunk];
      // The whole new text (a whole answer is one chunk) plus the end of what came before it.
      const subject = tail + text;
      tail = subject.slice(-PATTERN_OVERLAP);
      const checkedFrom = Math.max(0, normalised.length - settings.leakMinCharacters + 1);
      normalised = normalise(normalised + text);
      let reason: string | null = null;
      const denied = settings.denyPatterns.findIndex((pattern) => patternMatches(pattern, subject));
      if (denied !== -1) reason = `output deny_patterns[${denied}] matched`;
      // Only windows that end in the new text: each position of the answer is checked once.
      for (let end = Math.max(checkedFrom + settings.leakMinCharacters, settings.leakMinCharacters); reason === null && windows.size > 0 && end <= normalised.length; end += 1) {
        if (windows.has(normalised.slice(end - settings.leakMinCharacters, end))) reason = 'the answer repeats the system prompt';
      }
      // Keep only the tail a leak could still start in.
      if (normalised.length > NORMALISED_TAIL) normalised = normalised.slice(-settings.leakMinCharacters);
      if (reason === null) return [chunk];
      tripped = true;
      if (onTrip(reason)) throw new AnswerRefused(settings.blockMessage, { status: 400, type: 'invalid_request_error', code: 'request_blocked' });
      return [chunk];
    },
  };
}
