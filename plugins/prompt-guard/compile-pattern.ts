// Operator patterns on a linear-time engine (RE2 through re2js): no pattern can backtrack catastrophically.
import { RE2JS } from 're2js';

const compiled = new Map<string, RE2JS>();

/** The compiled pattern, or why it cannot be used (RE2 has no lookaround or backreferences). */
export function compilePattern(source: string): { pattern: RE2JS | null; error: string | null } {
  const known = compiled.get(source);
  if (known) return { pattern: known, error: null };
  try {
    const pattern = RE2JS.compile(source);
    compiled.set(source, pattern);
    return { pattern, error: null };
  } catch (error) {
    return { pattern: null, error: `is not a pattern the linear-time engine accepts (RE2 syntax: no lookaround or backreferences): ${(error as Error).message}` };
  }
}

/** Whether `source` (already validated by the config) matches anywhere in `text`. */
export function patternMatches(source: string, text: string): boolean {
  const { pattern, error } = compilePattern(source);
  if (pattern === null) throw new Error(`pattern ${error}`);
  // test() asks for no capture groups, so re2js can use its DFA: the fastest linear path.
  return pattern.test(text);
}
