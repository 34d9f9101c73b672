// The kinds of personal data and secrets pii-redact finds, and what a finding is.

export const PII_ENTITIES = ['email', 'phone', 'credit_card', 'iban', 'us_ssn', 'ip_address', 'secret', 'person', 'location'] as const;
export type PiiEntity = (typeof PII_ENTITIES)[number];

/** One piece of personal data in a text: `entity` is a built-in kind or a custom entity's name. */
export interface Finding {
  entity: string;
  start: number;
  end: number;
  value: string;
}

/**
 * When findings overlap, the more specific kind wins (a key inside a URL is a secret, not a location;
 * digits that are a valid card are not a phone). Custom entities rank above all built-in ones.
 */
export const ENTITY_RANK: Record<PiiEntity, number> = {
  secret: 0,
  email: 1,
  credit_card: 2,
  iban: 3,
  us_ssn: 4,
  ip_address: 5,
  phone: 6,
  person: 7,
  location: 8,
};

/** The placeholder tag of an entity: `<EMAIL_1>`, `<PERSON_2>`, `<EMPLOYEE_ID_3>`. */
export function placeholderTag(entity: string): string {
  return entity === 'email' ? 'EMAIL' : entity.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}
