// Validates and default-fills a plugin's `config` against its dumped Kong schema the way Kong 3.9 does for a DB-less kong.yml.
import type { KongField } from '../../plugins/kong/kong-schema';

/**
 * A schema field as the plugin server dumps it. Wider than `KongField`: Kong also knows `foreign` and
 * `json`, which this stand-in accepts loosely, and a dump may hold a type Kong would reject.
 */
interface SchemaField extends Omit<KongField, 'type' | 'elements' | 'keys' | 'values' | 'fields'> {
  type: string;
  elements?: SchemaField;
  keys?: SchemaField;
  values?: SchemaField;
  fields?: Array<Record<string, SchemaField>>;
}

/** A field's error: Kong's message, or a tree of errors keyed by field name or 1-based element index. */
export type FieldError = string | { [key: string]: FieldError };
type ErrorTree = { [key: string]: FieldError };

export interface ConfigValidation {
  ok: boolean;
  config: Record<string, unknown>;
  errors: Record<string, unknown>;
  message: string | null;
}

export interface PluginSchema {
  name: string;
  fields: Array<Record<string, KongField>>;
}

// kong/db/schema/init.lua: validation_errors (only the entries a plugin config can hit).
const MESSAGES = {
  array: 'expected an array',
  set: 'expected a set',
  map: 'expected a map',
  record: 'expected a record',
  string: 'expected a string',
  number: 'expected a number',
  boolean: 'expected a boolean',
  integer: 'expected an integer',
  required: 'required field missing',
  unknown: 'unknown field',
} as const;

/**
 * Validates `config` as Kong validates the `config` of a plugin entity in a declarative config, and
 * returns it filled with defaults as Kong stores it (explicit `null` for optional fields left out).
 * Throws (a schema problem, not a config problem) when the schema uses a Lua pattern we cannot translate.
 */
export function validatePluginConfig(pluginSchema: PluginSchema, config: unknown): ConfigValidation {
  const configField = pluginConfigField(pluginSchema);
  compileSchemaPatterns(configField);
  const input = structuredClone(config);
  // kong/db/schema/init.lua Schema:validate_field (record): the plugin entity is run through
  // process_auto_fields("insert") before Schema:validate, and its config record is processed again
  // inside validate_field. Mirroring both passes matters: a default array's records only get their
  // own sub-defaults on the second pass (which validation sees but the stored config does not).
  const stored = adjustField(configField, input);
  const configError = validatePresentField(configField, stored);
  const errors: ErrorTree = configError === undefined ? {} : { config: configError };
  const lines = flattenErrors(errors, '');
  return {
    ok: lines.length === 0,
    config: isPlainObject(stored) ? stored : {},
    errors,
    message: schemaViolationMessage(lines),
  };
}

/**
 * The config Kong hands the plugin at runtime, given the stored config `validatePluginConfig` returned.
 * Kong reads plugins back with process_auto_fields("select") without `nulls`
 * (kong/db/dao/init.lua row_to_entity, kong/runloop/plugins_iterator.lua), which drops every `null`
 * field and every empty string of a string field that does not allow one: a plugin never sees `null`.
 */
export function configAsPluginReceivesIt(pluginSchema: PluginSchema, storedConfig: Record<string, unknown>): Record<string, unknown> {
  return readRecord(pluginConfigField(pluginSchema), storedConfig);
}

// ---------------------------------------------------------------------------------------------
// The schema as Kong loads it

/**
 * The plugin's `config` field as Kong uses it. kong/db/schema/entity.lua new_subschema calls
 * make_records_required: every record reached through records (config itself and its nested
 * records, but not records inside array elements or map values) becomes `required` unless the
 * schema says `required: false`. That is why a missing nested record is built from its defaults.
 */
function pluginConfigField(pluginSchema: PluginSchema): SchemaField {
  const entry = pluginSchema.fields.find((candidate) => 'config' in candidate);
  const configField = entry?.config as SchemaField | undefined;
  if (!configField || configField.type !== 'record') {
    throw new Error(`plugin schema "${pluginSchema.name}" has no config record`);
  }
  return withRecordsRequired(configField);
}

function withRecordsRequired(field: SchemaField): SchemaField {
  if (field.type !== 'record') return field;
  return {
    ...field,
    required: field.required ?? true,
    fields: (field.fields ?? []).map((entry) => {
      const [name, subField] = fieldEntry(entry);
      return { [name]: withRecordsRequired(subField) };
    }),
  };
}

function fieldEntry(entry: Record<string, SchemaField>): [string, SchemaField] {
  const [pair] = Object.entries(entry);
  if (!pair) throw new Error('schema field entry is empty');
  return pair;
}

function namedFields(recordField: SchemaField): Array<[string, SchemaField]> {
  return (recordField.fields ?? []).map(fieldEntry);
}

function subField(field: SchemaField, attribute: 'elements' | 'keys' | 'values'): SchemaField {
  const found = field[attribute];
  // kong/db/schema/metaschema.lua required_attributes: Kong refuses such a schema at startup.
  if (!found) throw new Error(`schema error: a field of type '${field.type}' must declare '${attribute}'`);
  return found;
}

/** Translates every `match` up front, so an unsupported pattern fails even when no config exercises it. */
function compileSchemaPatterns(field: SchemaField): void {
  if (field.match !== undefined) luaPatternToRegExp(field.match);
  for (const nested of [field.elements, field.keys, field.values]) if (nested) compileSchemaPatterns(nested);
  for (const entry of field.fields ?? []) compileSchemaPatterns(fieldEntry(entry)[1]);
}

// ---------------------------------------------------------------------------------------------
// Lua tables seen from JavaScript: YAML/JSON objects and arrays are both Lua tables

function isTable(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return isTable(value) && !Array.isArray(value);
}

/** Lua's pairs(): arrays give 1-based integer keys; `undefined` is Lua's nil, so it is no entry. */
function tableEntries(table: Record<string, unknown> | unknown[]): Array<[string | number, unknown]> {
  if (Array.isArray(table)) {
    return table.flatMap((value, index): Array<[number, unknown]> => (value === undefined ? [] : [[index + 1, value]]));
  }
  return Object.entries(table).filter(([, value]) => value !== undefined);
}

/** kong/db/schema/init.lua is_sequence: an empty object `{}` is a sequence too (an empty Lua table). */
function isSequence(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) if (!(index in value) || value[index] === undefined) return false;
    return true;
  }
  return isPlainObject(value) && tableEntries(value).length === 0;
}

/** A record is a Lua table with string keys: an array's elements become keys "1", "2", ... */
function tableAsRecord(table: Record<string, unknown> | unknown[]): Record<string, unknown> {
  return Object.fromEntries(tableEntries(table).map(([key, value]) => [String(key), value]));
}

/** Lua's `#` as make_length_validator uses it: strings count bytes; a map adds its entry count. */
function luaLength(value: unknown, type: string): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (!isTable(value)) return 0;
  const border = Array.isArray(value) ? value.length : 0;
  return type === 'map' ? border + tableEntries(value).length : border;
}

// ---------------------------------------------------------------------------------------------
// Defaults: Schema:process_auto_fields(data, "insert")

/** kong/db/schema/init.lua handle_missing_field. `undefined` stands for Lua's nil (left absent). */
function missingFieldValue(field: SchemaField): unknown {
  if (field.default !== undefined) {
    const copy = structuredClone(field.default);
    return (field.type === 'array' || field.type === 'set') && isPlainObject(copy) && tableEntries(copy).length === 0 ? [] : copy;
  }
  // Not required means nullable: Kong stores an explicit null.
  if (field.required !== true) return null;
  // A required record is expanded from its sub-fields' defaults.
  if (field.type === 'record') return processRecord(field, {});
  // A required field without default stays absent; validation reports it.
  return undefined;
}

/** kong/db/schema/init.lua Schema:process_auto_fields for one record: a new table, defaults filled. */
function processRecord(recordField: SchemaField, data: Record<string, unknown> | unknown[]): Record<string, unknown> {
  const input = tableAsRecord(data);
  const fields = namedFields(recordField);
  // Lua tables have no order; schema order first, then keys the schema does not know (kept for validation).
  const result: Record<string, unknown> = {};
  for (const [name, field] of fields) {
    const value = adjustField(field, input[name]);
    if (value !== undefined) result[name] = value;
  }
  const known = new Set(fields.map(([name]) => name));
  for (const [key, value] of Object.entries(input)) if (!known.has(key)) result[key] = value;
  return result;
}

/** kong/db/schema/init.lua adjust_field_for_context, context "insert". */
function adjustField(field: SchemaField, value: unknown): unknown {
  if (field.type === 'record') {
    // should_recurse_record: an explicit null is kept; absent recurses only when required.
    if (value !== null && (value !== undefined || field.required === true)) {
      // Lua's `value or handle_missing_field(...)`: `false` is falsy too, so a record given `false`
      // is replaced by its default (or built from sub-defaults) exactly like a missing one.
      const filled = value === undefined || value === false ? missingFieldValue(field) : value;
      if (isTable(filled)) return processRecord(field, filled);
      value = filled;
    }
  } else if (isTable(value)) {
    value = adjustAggregate(field, value, adjustField);
  }
  return value === undefined ? missingFieldValue(field) : value;
}

/** The array, set or map part of adjust_field_for_context; `adjustElement` is the same context's adjuster. */
function adjustAggregate(field: SchemaField, table: Record<string, unknown> | unknown[], adjustElement: (field: SchemaField, value: unknown) => unknown): unknown {
  if (field.type === 'array' || field.type === 'set') {
    const elements = subField(field, 'elements');
    // make_array / make_set only touch sequences; make_set also drops duplicates (no error).
    const sequence = isSequence(table) ? (field.type === 'set' ? withoutDuplicates(table) : tableEntries(table).map(([, value]) => value)) : table;
    return mapTableValues(sequence, (element) => adjustElement(elements, element));
  }
  if (field.type === 'map') {
    const values = subField(field, 'values');
    return mapTableValues(table, (element) => adjustElement(values, element));
  }
  return table;
}

/** kong/db/schema/init.lua make_set: keeps first occurrences; tables only equal themselves. */
function withoutDuplicates(sequence: Record<string, unknown> | unknown[]): unknown[] {
  return [...new Set(tableEntries(sequence).map(([, value]) => value))];
}

function mapTableValues(table: Record<string, unknown> | unknown[], transform: (value: unknown) => unknown): Record<string, unknown> | unknown[] {
  if (Array.isArray(table)) return table.map(transform);
  return Object.fromEntries(tableEntries(table).map(([key, value]) => [key, transform(value)]));
}

// ---------------------------------------------------------------------------------------------
// Validation: Schema:validate, validate_fields, validate_field

/** kong/db/schema/init.lua Schema:validate (full_check): fields present in the input, then `required`. */
function validateRecord(recordField: SchemaField, record: Record<string, unknown>): ErrorTree | undefined {
  const fields = new Map(namedFields(recordField));
  const errors: ErrorTree = {};
  for (const [key, value] of tableEntries(record)) {
    const field = fields.get(String(key));
    // validate_fields: keys the schema does not know are errors, even with a null value
    // (only a data-plane node ignores null unknown fields).
    const error = field ? validateField(field, value) : MESSAGES.unknown;
    if (error !== undefined) errors[key] = error;
  }
  for (const [name, field] of fields) {
    if (field.required === true && (record[name] === null || record[name] === undefined)) errors[name] = MESSAGES.required;
  }
  return Object.keys(errors).length === 0 ? undefined : errors;
}

/** One field of an entity being validated: validate_fields only sees present keys, then `required` applies. */
function validatePresentField(field: SchemaField, value: unknown): FieldError | undefined {
  if (value === undefined || value === null) return field.required === true ? MESSAGES.required : undefined;
  return validateField(field, value);
}

/** kong/db/schema/init.lua Schema:validate_field: null, then type (and contents), then validators. */
function validateField(field: SchemaField, value: unknown): FieldError | undefined {
  if (value === null) return field.required === true ? MESSAGES.required : undefined;
  const typeError = validateType(field, value);
  if (typeError !== undefined) return typeError;
  // A referenceable string holding a vault reference skips every other check.
  if (field.type === 'string' && field.referenceable === true && isVaultReference(value)) return undefined;
  if (field.type === 'foreign' || field.type === 'json') return undefined;
  return runValidators(field, value);
}

function validateType(field: SchemaField, value: unknown): FieldError | undefined {
  switch (field.type) {
    case 'array':
    case 'set':
      return isSequence(value) ? validateElements(subField(field, 'elements'), value) : MESSAGES[field.type];
    case 'map':
      return isTable(value) ? validateMap(field, value) : MESSAGES.map;
    case 'record':
      // The record is default-filled again before it is validated (validate_field copies it first).
      return isTable(value) ? validateRecord(field, processRecord(field, value)) : MESSAGES.record;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : MESSAGES.integer;
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === field.type ? undefined : MESSAGES[field.type];
    case 'foreign':
    case 'json':
      // Accepted loosely: Kong checks these against other entities or a JSON schema.
      return undefined;
    default:
      return `invalid type: ${field.type}`;
  }
}

/** kong/db/schema/init.lua validate_elements: elements are required; errors keyed by 1-based index. */
function validateElements(elements: SchemaField, sequence: Record<string, unknown> | unknown[]): FieldError | undefined {
  const required = { ...elements, required: true };
  const errors: ErrorTree = {};
  for (const [index, element] of tableEntries(sequence)) {
    const error = validateField(required, element);
    if (error !== undefined) errors[index] = error;
  }
  return Object.keys(errors).length === 0 ? undefined : errors;
}

/** kong/db/schema/init.lua validate_field (map): the first bad key or value is the map's error, unkeyed. */
function validateMap(field: SchemaField, table: Record<string, unknown> | unknown[]): FieldError | undefined {
  const keys = { ...subField(field, 'keys'), required: true };
  const values = { ...subField(field, 'values'), required: true };
  for (const [key, value] of tableEntries(table)) {
    const error = validateField(keys, key) ?? validateField(values, value);
    if (error !== undefined) return error;
  }
  return undefined;
}

/** kong/pdk/vault.lua is_reference. */
function isVaultReference(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith('{vault://') && value.endsWith('}');
}

/** kong/db/schema/init.lua Schema.validators, in Schema.validators_order; the first failure wins. */
function runValidators(field: SchemaField, value: unknown): string | undefined {
  // validate_field: "empty strings are not accepted by default".
  const lengthMinimum = field.type === 'string' && field.len_min === undefined ? 1 : field.len_min;
  const checks: Array<() => string | undefined> = [
    () => (field.one_of === undefined || field.one_of.includes(value) ? undefined : `expected one of: ${field.one_of.map(luaToString).join(', ')}`),
    () => (field.gt === undefined || (value as number) > field.gt ? undefined : `value must be greater than ${luaToString(field.gt)}`),
    () => (field.between === undefined || ((value as number) >= field.between[0] && (value as number) <= field.between[1]) ? undefined : `value should be between ${luaInteger(field.between[0])} and ${luaInteger(field.between[1])}`),
    () => (lengthMinimum === undefined || luaLength(value, field.type) >= lengthMinimum ? undefined : `length must be at least ${luaInteger(lengthMinimum)}`),
    () => (field.len_max === undefined || luaLength(value, field.type) <= field.len_max ? undefined : `length must be at most ${luaInteger(field.len_max)}`),
    () => (field.match === undefined || luaPatternToRegExp(field.match).test(String(value)) ? undefined : `invalid value: ${String(value)}`),
  ];
  for (const check of checks) {
    const error = check();
    if (error !== undefined) return error;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Messages

/** Lua's tostring / table.concat of a value: numbers print as "%.14g". */
function luaToString(value: unknown): string {
  return typeof value === 'number' ? formatG14(value) : String(value);
}

/** string.format("%d", n) in LuaJIT truncates toward zero. */
function luaInteger(value: number): string {
  return String(Math.trunc(value));
}

/** C's printf("%.14g"), which Lua uses for numbers. */
function formatG14(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa = '', exponentText = '0'] = value.toExponential(13).split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 14) {
    const digits = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    return `${digits}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed = value.toFixed(Math.max(0, 13 - exponent));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/**
 * One "path: message" per failing leaf, keys sorted at each level, the path joined with dots and
 * 1-based element indexes: kong/db/errors.lua flatten_errors (what `POST /config?flatten_errors=1`
 * reports as `field`). Kong's own schema_violation message only joins two levels and pretty-prints
 * the rest as a Lua table; the dotted path is the readable form of the same tree.
 */
function flattenErrors(tree: ErrorTree, path: string): string[] {
  return sortedKeys(tree).flatMap((key) => {
    const error = tree[key] as FieldError;
    const fieldPath = path === '' ? key : `${path}.${key}`;
    return typeof error === 'string' ? [`${fieldPath}: ${error}`] : flattenErrors(error, fieldPath);
  });
}

/** errors.lua sorted_keys: Lua's sort, numbers by value, strings by bytes. */
function sortedKeys(tree: ErrorTree): string[] {
  const numeric = (key: string): boolean => /^\d+$/.test(key);
  return Object.keys(tree).sort((left, right) => {
    if (numeric(left) && numeric(right)) return Number(left) - Number(right);
    return left < right ? -1 : left > right ? 1 : 0;
  });
}

/** kong/db/errors.lua schema_violation: "schema violation (...)" or "N schema violations (...; ...)". */
function schemaViolationMessage(lines: string[]): string | null {
  if (lines.length === 0) return null;
  if (lines.length === 1) return `schema violation (${lines[0]})`;
  return `${lines.length} schema violations (${lines.join('; ')})`;
}

// ---------------------------------------------------------------------------------------------
// Runtime view: Schema:process_auto_fields(data, "select") without nulls

function readRecord(recordField: SchemaField, data: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  // Keys the schema does not know are dropped; so are nulls and empty strings a field forbids.
  for (const [name, field] of namedFields(recordField)) {
    const value = readField(field, data[name]);
    if (value === null || value === undefined) continue;
    if (field.type === 'string' && value === '' && (field.len_min ?? 1) > 0) continue;
    result[name] = value;
  }
  return result;
}

/** kong/db/schema/init.lua adjust_field_for_context, context "select": defaults are filled here too. */
function readField(field: SchemaField, value: unknown): unknown {
  if (value === null && field.required === true) return missingFieldValue(field);
  if (field.type === 'record') {
    if (value !== null && (value !== undefined || field.required === true)) {
      const filled = value === undefined || value === false ? missingFieldValue(field) : value;
      if (isTable(filled)) return readRecord(field, tableAsRecord(filled));
      value = filled;
    }
  } else if (isTable(value)) {
    value = adjustAggregate(field, value, readField);
  }
  return value === undefined ? missingFieldValue(field) : value;
}

// ---------------------------------------------------------------------------------------------
// Lua patterns (string.match, as the `match` validator calls it) translated to JavaScript

// lstrlib.c match_class, C locale. Ranges of character codes; an upper-case class is the complement.
const LUA_CLASSES: Record<string, Array<[number, number]>> = {
  a: [[0x41, 0x5a], [0x61, 0x7a]],
  c: [[0x00, 0x1f], [0x7f, 0x7f]],
  d: [[0x30, 0x39]],
  l: [[0x61, 0x7a]],
  p: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  s: [[0x09, 0x0d], [0x20, 0x20]],
  u: [[0x41, 0x5a]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  x: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
  z: [[0x00, 0x00]],
};
const LARGEST_CODE_UNIT = 0xffff;
const translatedPatterns = new Map<string, RegExp>();

/**
 * A JavaScript RegExp that matches where Lua's `string.match(value, pattern)` finds a match.
 * Supports classes (%a %c %d %l %p %s %u %w %x %z and their complements), `.`, sets `[...]`
 * with ranges and `^`, %-escapes, the quantifiers `* + - ?`, captures, and the anchors `^` `$`.
 * Throws for what it cannot mirror: %b, %f, %g and back-references.
 */
export function luaPatternToRegExp(pattern: string): RegExp {
  const cached = translatedPatterns.get(pattern);
  if (cached) return cached;
  const translated = new RegExp(translatePattern(pattern));
  translatedPatterns.set(pattern, translated);
  return translated;
}

function translatePattern(pattern: string): string {
  const fail = (why: string): never => {
    throw new Error(`Lua pattern ${JSON.stringify(pattern)}: ${why}`);
  };
  // `^` anchors only as the first character; `$` only as the very last one. Elsewhere both are literal.
  let index = pattern.startsWith('^') ? 1 : 0;
  let source = index === 1 ? '^' : '';
  let openCaptures = 0;
  while (index < pattern.length) {
    const character = pattern[index] as string;
    if (character === '$' && index === pattern.length - 1) {
      source += '$';
      index += 1;
    } else if (character === '(') {
      openCaptures += 1;
      source += '(';
      index += 1;
    } else if (character === ')') {
      if (openCaptures === 0) fail('invalid pattern capture');
      openCaptures -= 1;
      source += ')';
      index += 1;
    } else {
      const item = translateSingle(pattern, index, fail);
      index = item.next;
      const quantifier = pattern[index];
      // `-` is Lua's lazy `*`. A quantifier applies to one single-character item only.
      if (quantifier === '*' || quantifier === '+' || quantifier === '?' || quantifier === '-') {
        source += item.source + (quantifier === '-' ? '*?' : quantifier);
        index += 1;
      } else {
        source += item.source;
      }
    }
  }
  if (openCaptures !== 0) fail('unfinished capture');
  return source;
}

/** One single-character item (lstrlib.c singlematch): `.`, `%x`, `[set]` or a literal. */
function translateSingle(pattern: string, index: number, fail: (why: string) => never): { source: string; next: number } {
  const character = pattern[index] as string;
  if (character === '.') return { source: '[\\s\\S]', next: index + 1 };
  if (character === '[') {
    const end = setEnd(pattern, index, fail);
    return { source: translateSet(pattern.slice(index + 1, end - 1), fail), next: end };
  }
  if (character === '%') {
    const escaped = pattern[index + 1];
    if (escaped === undefined) fail("malformed pattern (ends with '%')");
    if (escaped === 'b') fail('%b (balanced match) is not supported by the stand-in');
    if (escaped === 'f') fail('%f (frontier) is not supported by the stand-in');
    if (escaped === 'g') fail('%g is not a class in LuaJIT (Lua 5.1 patterns)');
    if (/[0-9]/.test(escaped as string)) fail(`back-reference %${escaped} is not supported by the stand-in`);
    return { source: renderRanges(classRanges(escaped as string), false), next: index + 2 };
  }
  return { source: renderRanges([[codeOf(character), codeOf(character)]], false), next: index + 1 };
}

/** lstrlib.c classEnd for `[`: the first character after `[` or `[^` never closes the set. */
function setEnd(pattern: string, start: number, fail: (why: string) => never): number {
  let index = start + 1;
  if (pattern[index] === '^') index += 1;
  do {
    if (index >= pattern.length) fail("malformed pattern (missing ']')");
    const character = pattern[index];
    index += 1;
    if (character === '%' && index < pattern.length) index += 1;
  } while (pattern[index] !== ']');
  return index + 1;
}

/** lstrlib.c matchbracketclass: the body of a set (between `[` and `]`) as one JavaScript class. */
function translateSet(body: string, fail: (why: string) => never): string {
  const negated = body.startsWith('^');
  const ranges: Array<[number, number]> = [];
  let index = negated ? 1 : 0;
  while (index < body.length) {
    const character = body[index] as string;
    if (character === '%') {
      const escaped = body[index + 1] as string;
      if (escaped === 'b' || escaped === 'f' || escaped === 'g') fail(`%${escaped} inside a set is not supported by the stand-in`);
      ranges.push(...classRanges(escaped));
      index += 2;
    } else if (body[index + 1] === '-' && index + 2 < body.length) {
      // A range; Lua's `z-a` matches nothing, so an inverted range is simply dropped.
      const low = codeOf(character);
      const high = codeOf(body[index + 2] as string);
      if (low <= high) ranges.push([low, high]);
      index += 3;
    } else {
      ranges.push([codeOf(character), codeOf(character)]);
      index += 1;
    }
  }
  return renderRanges(ranges, negated);
}

/** `%x` where x is a class letter gives its ranges (upper case: complement); anything else is literal. */
function classRanges(letter: string): Array<[number, number]> {
  const ranges = LUA_CLASSES[letter.toLowerCase()];
  if (ranges === undefined) return [[codeOf(letter), codeOf(letter)]];
  return letter === letter.toLowerCase() ? ranges : complementRanges(ranges);
}

function complementRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((left, right) => left[0] - right[0]);
  const complement: Array<[number, number]> = [];
  let next = 0;
  for (const [low, high] of sorted) {
    if (low > next) complement.push([next, low - 1]);
    next = Math.max(next, high + 1);
  }
  if (next <= LARGEST_CODE_UNIT) complement.push([next, LARGEST_CODE_UNIT]);
  return complement;
}

/** A JavaScript character class built from \uXXXX escapes, so no character needs escaping rules. */
function renderRanges(ranges: Array<[number, number]>, negated: boolean): string {
  const escape = (code: number): string => `\\u${code.toString(16).padStart(4, '0')}`;
  const body = ranges.map(([low, high]) => (low === high ? escape(low) : `${escape(low)}-${escape(high)}`)).join('');
  return `[${negated ? '^' : ''}${body}]`;
}

function codeOf(character: string): number {
  return character.charCodeAt(0);
}
