// The cheap layers of prompt-guard as pure checks: size limits, Kong-compatible patterns, role rules.
import type { PromptText } from './prompt-texts';
import { patternMatches } from './compile-pattern';

/** Which layer tripped, why (never the prompt), and its score where it has one. */
export interface Trip {
  layer: 'size' | 'pattern' | 'role' | 'injection' | 'topic' | 'judge';
  reason: string;
  score?: number;
  /** The text that tripped it: logged only as an excerpt, and only when the operator asks. */
  text?: string;
}

export interface SizeLimits {
  max_messages?: number;
  max_message_characters?: number;
  max_total_characters?: number;
  max_message_tokens?: number;
  max_total_tokens?: number;
}

/** Characters and tokens per message (texts of one message together) and in total; tokens only when a token limit is set. */
export function checkSizeLimits(texts: PromptText[], messageCount: number, limits: SizeLimits, countTokens: (text: string) => number): Trip | null {
  if (limits.max_messages !== undefined && messageCount > limits.max_messages) return { layer: 'size', reason: `${messageCount} messages > max_messages ${limits.max_messages}` };
  const perMessage = new Map<number, string[]>();
  for (const text of texts) {
    const parts = perMessage.get(text.messageIndex);
    if (parts) parts.push(text.text);
    else perMessage.set(text.messageIndex, [text.text]);
  }
  const countingTokens = limits.max_message_tokens !== undefined || limits.max_total_tokens !== undefined;
  let totalCharacters = 0;
  let totalTokens = 0;
  for (const parts of perMessage.values()) {
    const characters = parts.reduce((sum, part) => sum + part.length, 0);
    totalCharacters += characters;
    if (limits.max_message_characters !== undefined && characters > limits.max_message_characters) return { layer: 'size', reason: `a message of ${characters} characters > max_message_characters ${limits.max_message_characters}` };
    // Characters bound tokens from above (a token is at least one character): count only when it could matter.
    if (!countingTokens) continue;
    const tokens = parts.reduce((sum, part) => sum + countTokens(part), 0);
    totalTokens += tokens;
    if (limits.max_message_tokens !== undefined && tokens > limits.max_message_tokens) return { layer: 'size', reason: `a message of ${tokens} tokens > max_message_tokens ${limits.max_message_tokens}` };
  }
  if (limits.max_total_characters !== undefined && totalCharacters > limits.max_total_characters) return { layer: 'size', reason: `${totalCharacters} characters > max_total_characters ${limits.max_total_characters}` };
  if (limits.max_total_tokens !== undefined && totalTokens > limits.max_total_tokens) return { layer: 'size', reason: `${totalTokens} tokens > max_total_tokens ${limits.max_total_tokens}` };
  return null;
}

export interface PatternSettings {
  allowPatterns: string[];
  denyPatterns: string[];
  allowAllConversationHistory: boolean;
  matchAllRoles: boolean;
}

/**
 * The text Kong's ai-prompt-guard checks: every user message joined (its default), only the last user
 * message with `allow_all_conversation_history`, or every role's with `match_all_roles`. Messages are joined
 * with a newline, so one message's end never completes a pattern begun in another.
 */
export function patternSubject(texts: PromptText[], settings: Pick<PatternSettings, 'allowAllConversationHistory' | 'matchAllRoles'>): string {
  if (settings.allowAllConversationHistory) {
    const lastUser = texts.filter((text) => text.role === 'user').at(-1);
    if (lastUser === undefined) return '';
    return texts.filter((text) => text.role === 'user' && text.messageIndex === lastUser.messageIndex).map((text) => text.text).join('\n');
  }
  return texts.filter((text) => settings.matchAllRoles || text.role === 'user').map((text) => text.text).join('\n');
}

/** Kong's order: any deny pattern that matches denies; then, when allow patterns are set, one must match. */
export function checkPatterns(texts: PromptText[], settings: PatternSettings): Trip | null {
  if (settings.allowPatterns.length === 0 && settings.denyPatterns.length === 0) return null;
  const subject = patternSubject(texts, settings);
  const denied = settings.denyPatterns.findIndex((pattern) => patternMatches(pattern, subject));
  if (denied !== -1) return { layer: 'pattern', reason: `deny_patterns[${denied}] matched`, text: subject };
  if (settings.allowPatterns.length > 0 && !settings.allowPatterns.some((pattern) => patternMatches(pattern, subject))) return { layer: 'pattern', reason: 'no allow_patterns matched', text: subject };
  return null;
}

/**
 * Text that poses as a system or developer turn inside a user's (or a tool result's) content: role
 * headers at a line start and the chat-template tokens of common model families.
 */
const IMPERSONATION = [
  // Bounded repeats only: these run on every user text, so they must stay linear on hostile input.
  /(^|\n)[ \t]{0,8}(#{1,4}[ \t]{0,4})?(system|developer)[ \t]{0,4}(prompt|message|instructions?)?[ \t]{0,4}:/i,
  /<\|im_start\|>[ \t\n]{0,4}(system|developer)/i,
  /<\|(system|developer)\|>/i,
  /<\|start_header_id\|>[ \t\n]{0,4}(system|developer)/i,
  /<<\/?SYS>>/,
  /\[\/?INST\]/,
  /\[(system|developer)( message)?\]/i,
];

export function checkRoleRules(texts: PromptText[], rules: { reject_impersonation: boolean; system_prompt_pattern?: string }): Trip | null {
  if (rules.reject_impersonation) {
    for (const text of texts) {
      if (text.role !== 'user' && text.role !== 'tool') continue;
      const rule = IMPERSONATION.findIndex((pattern) => pattern.test(text.text));
      if (rule !== -1) return { layer: 'role', reason: `${text.role} text poses as a system or developer turn (rule ${rule})`, text: text.text };
    }
  }
  if (rules.system_prompt_pattern !== undefined) {
    const system = texts.filter((text) => text.role === 'system' || text.role === 'developer').map((text) => text.text).join('\n');
    if (system === '') return { layer: 'role', reason: 'no system prompt, and system_prompt_pattern expects one' };
    if (!patternMatches(rules.system_prompt_pattern, system)) return { layer: 'role', reason: 'the system prompt does not match system_prompt_pattern' };
  }
  return null;
}
