// A policy plugin configured for a request but not attested means Kong skipped it: the request is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingPolicies } from '../../plugins/kong/expected-policies';
import type { LiveInstance } from '../../plugins/kong/runtime';

const scope = (routeId: string | null, serviceId: string | null = null, consumerId: string | null = null) => ({ pluginId: null, routeId, serviceId, consumerId });
const request = { routeId: 'r1', serviceId: 's1', consumerId: 'c1' };

describe('missingPolicies', () => {
  it('lists route, service, consumer and global policies that did not attest', () => {
    const instances: LiveInstance[] = [
      { name: 'prompt-guard', scope: scope('r1') },
      { name: 'pii-redact', scope: scope(null, 's1') },
      { name: 'token-limit', scope: scope(null, null, 'c1') },
      { name: 'semantic-cache', scope: scope(null) },
    ];
    assert.deepEqual(missingPolicies(instances, request, new Set()), ['pii-redact', 'prompt-guard', 'semantic-cache', 'token-limit']);
    assert.deepEqual(missingPolicies(instances, request, new Set(['prompt-guard', 'pii-redact', 'token-limit', 'semantic-cache'])), []);
  });

  it('ignores policies scoped elsewhere, and llm-proxy itself', () => {
    const instances: LiveInstance[] = [
      { name: 'prompt-guard', scope: scope('r2') },
      { name: 'pii-redact', scope: scope(null, 's2') },
      { name: 'token-limit', scope: scope(null, null, 'c2') },
      { name: 'llm-proxy', scope: scope('r1') },
    ];
    assert.deepEqual(missingPolicies(instances, request, new Set()), []);
  });
});
