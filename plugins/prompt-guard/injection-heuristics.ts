// Phrases that are prompt injection almost whatever surrounds them: a floor under the classifier's score.

/** Bounded repeats only, so each runs in linear time on hostile input. English and German (deepset's languages). */
const INJECTION_PHRASES = [
  /\b(ignore|disregard|forget)\b[^.!?\n]{0,40}\b(previous|prior|above|earlier|preceding|all|any|your)\b[^.!?\n]{0,20}\b(instructions?|prompts?|rules|directions|guidelines|tasks|orders)\b/i,
  /\b(vergiss|ignoriere|vergessen sie|ignorieren sie)\b[^.!?\n]{0,40}\b(anweisungen|aufgaben|befehle|regeln|instruktionen|vorgaben)\b/i,
  /\b(reveal|print|show|repeat|output|display|leak|tell me)\b[^.!?\n]{0,30}\byour\s{0,3}((system|initial|original|hidden|secret)\s{0,3})?(prompt|instructions)\b/i,
  /\byou are (now|no longer)\b[^.!?\n]{0,40}\b(dan|jailbroken|unrestricted|unfiltered|developer mode|free of|without (any )?(rules|restrictions|limits))\b/i,
  /\b(developer mode|dan mode|jailbreak mode)\b[^.!?\n]{0,20}\b(enabled|activated|on)\b/i,
  /\b(new|updated|real) instructions\s{0,3}:/i,
  /\bfrom now on,? you (will|must|are|shall)\b[^.!?\n]{0,60}\b(ignore|not follow|no longer|without)\b/i,
];

/** The score the heuristics give: high when a known injection phrase appears, else 0. */
export const HEURISTIC_SCORE = 0.99;

/** Null when no phrase matches; else the index of the first that does (for the log). */
export function matchedInjectionPhrase(text: string): number | null {
  const index = INJECTION_PHRASES.findIndex((phrase) => phrase.test(text));
  return index === -1 ? null : index;
}
