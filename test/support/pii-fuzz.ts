// Generates prompts with embedded personal data of every kind, deterministically (a seeded PRNG), for leak tests.
import { ibanValid, luhnValid } from '../../plugins/core/pii/detect-structured';

export interface FuzzPrompt {
  text: string;
  /** The embedded values, by kind. */
  values: Array<{ entity: string; value: string }>;
}

/** mulberry32: small, fast, and the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['James', 'Maria', 'Wei', 'Aisha', 'Olga', 'Carlos', 'Emma', 'Hiroshi', 'Fatima', 'Liam'];
const LAST = ['Smith', 'Garcia', 'Chen', 'Khan', 'Petrova', 'Silva', 'Johnson', 'Tanaka', 'Haddad', 'Murphy'];
const WORDS = ['please', 'review', 'the', 'account', 'for', 'our', 'customer', 'today', 'and', 'reply', 'with', 'a', 'summary'];
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Area codes and exchanges libphonenumber accepts as valid US numbers. */
const US_AREAS = ['212', '312', '415', '617', '713', '206', '303', '404'];

export function fuzzPrompts(count: number, seed = 42): FuzzPrompt[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const digits = (length: number) => Array.from({ length }, () => Math.floor(random() * 10)).join('');
  const chars = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const generators: Record<string, () => string> = {
    email: () => `${pick(FIRST).toLowerCase()}.${pick(LAST).toLowerCase()}${digits(2)}@${pick(['example.com', 'mail.example.org', 'corp.example.net'])}`,
    phone: () => pick([() => `(${pick(US_AREAS)}) ${2 + Math.floor(random() * 7)}${digits(2)}-${digits(4)}`, () => `+44 20 7${digits(3)} ${digits(4)}`, () => `+49 30 ${digits(8)}`])(),
    credit_card: () => {
      for (;;) {
        const number = `${pick(['4', '51', '52', '55'])}${digits(14)}`.slice(0, 16);
        if (luhnValid(number)) return number.replace(/(\d{4})(?=\d)/g, '$1 ');
      }
    },
    iban: () => {
      const bban = digits(18);
      for (let check = 2; check < 100; check += 1) {
        const iban = `DE${String(check).padStart(2, '0')}${bban}`;
        if (ibanValid(iban)) return iban;
      }
      throw new Error('no check digits');
    },
    us_ssn: () => `${String(100 + Math.floor(random() * 565)).padStart(3, '0')}-${String(10 + Math.floor(random() * 89))}-${String(1000 + Math.floor(random() * 8999))}`,
    ip_address: () => (random() < 0.7 ? `${10 + Math.floor(random() * 200)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}` : `2001:db8:${chars('0123456789abcdef', 4)}::${chars('0123456789abcdef', 3)}`),
    secret: () =>
      pick([
        () => `AKIA${chars(UPPER, 16)}`,
        () => `sk-proj-${chars(ALNUM, 40)}`,
        () => `ghp_${chars(ALNUM, 36)}`,
        () => `xoxb-${digits(12)}-${chars(ALNUM, 24)}`,
        () => `postgres://app:${chars(ALNUM, 12)}@db.internal:5432/main`,
      ])(),
    person: () => `${pick(FIRST)} ${pick(LAST)}`,
  };
  const kinds = Object.keys(generators);
  return Array.from({ length: count }, () => {
    const values: FuzzPrompt['values'] = [];
    const parts: string[] = [];
    const embedded = 1 + Math.floor(random() * 4);
    for (let index = 0; index < embedded; index += 1) {
      const entity = pick(kinds);
      const value = generators[entity]!();
      values.push({ entity, value });
      parts.push(Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(WORDS)).join(' '), value);
    }
    parts.push(pick(WORDS));
    return { text: parts.join(' '), values };
  });
}
