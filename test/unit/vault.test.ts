// Provider keys come from Kong env vault references, resolved the way Kong's env vault does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVaultReference, resolveVaultReference } from '../../plugins/core/vault';
import { GatewayError } from '../../plugins/core/errors';

describe('env vault references', () => {
  const environment = { OPENAI_API_KEY: 'sk-1', MY_SECRETS: '{"provider":"sk-2"}' };

  it('recognises references and nothing else', () => {
    assert.ok(isVaultReference('{vault://env/openai-api-key}'));
    assert.ok(isVaultReference('{vault://hcv/path/key}'));
    assert.ok(!isVaultReference('sk-live-1234'));
    assert.ok(!isVaultReference('vault://env/x'));
  });

  it('upper-cases the name and turns dashes into underscores, like Kong', () => {
    assert.equal(resolveVaultReference('{vault://env/openai-api-key}', environment), 'sk-1');
    assert.equal(resolveVaultReference('{vault://env/OPENAI_API_KEY}', environment), 'sk-1');
  });

  it('reads a key of a JSON variable', () => {
    assert.equal(resolveVaultReference('{vault://env/my-secrets/provider}', environment), 'sk-2');
  });

  it('fails clearly, without echoing values, for unset variables and other vaults', () => {
    assert.throws(() => resolveVaultReference('{vault://env/missing}', environment), (error: unknown) => error instanceof GatewayError && /MISSING/.test(error.message));
    assert.throws(() => resolveVaultReference('{vault://hcv/x}', environment), /Kong must resolve/);
    assert.throws(() => resolveVaultReference('{vault://env/my-secrets/absent}', environment), (error: unknown) => !(error as Error).message.includes('sk-2'));
  });
});
