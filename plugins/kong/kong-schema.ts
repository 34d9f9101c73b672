// Derives the Kong plugin schema (what Kong validates kong.yml against) from a plugin's zod config.
import { z } from 'zod';

/** One Kong schema field, as Kong's `kong/db/schema` reads it. */
export interface KongField {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'set' | 'map' | 'record';
  description?: string;
  required?: boolean;
  default?: unknown;
  one_of?: unknown[];
  between?: [number, number];
  gt?: number;
  len_min?: number;
  len_max?: number;
  match?: string;
  referenceable?: boolean;
  encrypted?: boolean;
  elements?: KongField;
  keys?: KongField;
  values?: KongField;
  fields?: Array<Record<string, KongField>>;
}

/** The JSON Schema subset zod's `toJSONSchema` emits for the configs we write. */
interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  referenceable?: boolean;
  encrypted?: boolean;
  kong_match?: string;
}

const LARGEST = Number.MAX_SAFE_INTEGER;

/**
 * The `fields` of a plugin's config record. Zod is the source of truth: this only translates.
 * A construct Kong's schema language cannot express (unions, tuples) throws at build time,
 * which keeps configs simple enough for Kong to validate what it can.
 */
export function kongConfigFields(config: z.ZodObject): Array<Record<string, KongField>> {
  const json = z.toJSONSchema(config, { io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  return recordFields(json, 'config');
}

function recordFields(schema: JsonSchema, path: string): Array<Record<string, KongField>> {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    [name]: toKongField(property, required.has(name), `${path}.${name}`),
  }));
}

function toKongField(schema: JsonSchema, required: boolean, path: string): KongField {
  const type = kongType(schema, path);
  const field: KongField = { type };
  if (schema.description !== undefined) field.description = schema.description;
  if (required && schema.default === undefined) field.required = true;
  // Kong treats a record field as required unless it says otherwise (kong/db/schema/entity.lua).
  if (type === 'record' && !required && schema.default === undefined) field.required = false;
  if (schema.default !== undefined) field.default = schema.default;
  if (schema.enum !== undefined) field.one_of = schema.enum;
  if (schema.referenceable) field.referenceable = true;
  if (schema.encrypted) field.encrypted = true;
  if (schema.kong_match !== undefined) field.match = schema.kong_match;

  if (type === 'number' || type === 'integer') {
    if (schema.exclusiveMinimum !== undefined) field.gt = schema.exclusiveMinimum;
    if (schema.minimum !== undefined || schema.maximum !== undefined) {
      field.between = [schema.minimum ?? -LARGEST, schema.maximum ?? LARGEST];
    }
  }
  if (type === 'string') {
    if (schema.minLength !== undefined) field.len_min = schema.minLength;
    if (schema.maxLength !== undefined) field.len_max = schema.maxLength;
  }
  if (type === 'array' || type === 'set') {
    if (schema.minItems !== undefined) field.len_min = schema.minItems;
    if (schema.maxItems !== undefined) field.len_max = schema.maxItems;
    field.elements = toKongField(schema.items ?? {}, true, `${path}[]`);
    delete field.elements.required;
  }
  if (type === 'map') {
    field.keys = { type: 'string' };
    field.values = toKongField(schema.additionalProperties as JsonSchema, true, `${path}{}`);
    delete field.values.required;
  }
  if (type === 'record') field.fields = recordFields(schema, path);
  return field;
}

function kongType(schema: JsonSchema, path: string): KongField['type'] {
  // A nullable field (`type: ["string", "null"]`) is the plain type in Kong: absent means null.
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).filter((t) => t !== 'null');
  const [type] = types;
  if (types.length !== 1 || type === undefined) throw new Error(`${path}: Kong schemas need exactly one type`);
  switch (type) {
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      return type;
    case 'array':
      return schema.uniqueItems ? 'set' : 'array';
    case 'object':
      return schema.properties === undefined && typeof schema.additionalProperties === 'object' ? 'map' : 'record';
    default:
      throw new Error(`${path}: JSON type "${type}" has no Kong equivalent`);
  }
}
