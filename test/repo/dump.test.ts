// `make dump` prints exactly what Kong's five query commands read: one JSON document per plugin.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { REPOSITORY_ROOT, PLUGIN_NAMES } from '../support/gateway';

describe('make dump', () => {
  it('prints five JSON documents that Kong 3.9 can register, and nothing else on stdout', () => {
    const stdout = execFileSync('make', ['-s', 'dump'], { cwd: REPOSITORY_ROOT, encoding: 'utf8', env: { ...process.env, AI_LOG_LEVEL: 'trace' } });
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 5);
    const names = lines.map((line) => {
      const dump = JSON.parse(line) as Array<{ Name: string; Version: string; Priority: number; Phases: string[]; Schema: { name: string; fields: Array<{ config?: { type: string; fields: unknown[] } }> } }>;
      // Kong reads only element [1] of the array (kong/runloop/plugin_servers/process.lua).
      assert.equal(dump.length, 1);
      const [info] = dump;
      assert.ok(info);
      assert.match(info.Version, /^\d+\.\d+\.\d+$/);
      assert.ok(Number.isInteger(info.Priority));
      assert.ok(info.Phases.includes('access'));
      // No plugin of ours may define `response`: Kong would buffer every response (fact 2).
      assert.ok(!info.Phases.includes('response'));
      assert.equal(info.Schema.name, info.Name);
      assert.equal(info.Schema.fields[0]?.config?.type, 'record');
      return info.Name;
    });
    assert.deepEqual(names.sort(), [...PLUGIN_NAMES].sort());
  });

  it('runs the policies before llm-proxy, in the order the design gives', () => {
    const priorities = new Map(
      execFileSync('make', ['-s', 'dump'], { cwd: REPOSITORY_ROOT, encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)[0] as { Name: string; Priority: number })
        .map((info) => [info.Name, info.Priority]),
    );
    const order = [...priorities.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
    assert.deepEqual(order, ['prompt-guard', 'pii-redact', 'semantic-cache', 'token-limit', 'llm-proxy']);
    // After authentication (key-auth 1250, basic-auth 1100, hmac-auth 1030) so policies can key on consumers.
    assert.ok([...priorities.values()].every((priority) => priority < 1000));
  });
});
