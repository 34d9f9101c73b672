// Resolves Kong vault references of the `env` vault, so provider keys never sit in kong.yml.
import { GatewayError } from './errors';

const REFERENCE = /^\{vault:\/\/([a-z0-9_-]+)\/([^/}]+)(?:\/([^}]+))?\}$/i;

export function isVaultReference(value: string): boolean {
  return REFERENCE.test(value.trim());
}

/**
 * Resolves `{vault://env/NAME}` and `{vault://env/NAME/json_key}` the way Kong's env vault does:
 * NAME is upper-cased and `-` becomes `_`; a third segment reads a key of the JSON the variable holds.
 * Kong resolves references itself for fields its schema marks `referenceable`; this covers the
 * same form when a value reaches us unresolved. Other vaults (hcv, aws, gcp ...) are Kong's to resolve.
 */
export function resolveVaultReference(reference: string, environment: NodeJS.ProcessEnv = process.env): string {
  const match = REFERENCE.exec(reference.trim());
  if (!match) throw configError('is not a vault reference of the form {vault://env/NAME}');
  const [, vault, name, jsonKey] = match as unknown as [string, string, string, string | undefined];
  if (vault !== 'env') {
    throw configError(`uses vault "${vault}", which Kong must resolve before the plugin sees it`);
  }
  const variable = name.toUpperCase().replace(/-/g, '_');
  const value = environment[variable];
  if (value === undefined || value === '') throw configError(`names environment variable ${variable}, which is not set`);
  if (jsonKey === undefined) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw configError(`reads key "${jsonKey}" of ${variable}, which does not hold JSON`);
  }
  const field = (parsed as Record<string, unknown> | null)?.[jsonKey];
  if (typeof field !== 'string') throw configError(`reads key "${jsonKey}" of ${variable}, which has no such string`);
  return field;
}

function configError(what: string): GatewayError {
  // The reference is not echoed: it is harmless, but the message may end up next to resolved values.
  return new GatewayError(`A provider key reference ${what}.`, {
    status: 500,
    type: 'server_error',
    code: 'vault_reference_unresolved',
  });
}
