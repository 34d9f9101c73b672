// The injection layer's score of one text: the heuristics' floor under the trained classifier.
import { injectionScore } from './injection-classifier';
import { HEURISTIC_SCORE, matchedInjectionPhrase } from './injection-heuristics';

export interface InjectionVerdict {
  score: number;
  /** The heuristic phrase that matched (for the log), or null when the classifier alone scored it. */
  phrase: number | null;
}

export function scoreInjection(text: string): InjectionVerdict {
  const phrase = matchedInjectionPhrase(text);
  // A known phrase needs no model; the classifier runs only on what the phrases let through.
  return phrase !== null ? { score: HEURISTIC_SCORE, phrase } : { score: injectionScore(text), phrase: null };
}
