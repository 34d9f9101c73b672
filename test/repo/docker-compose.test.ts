// docker-compose.yml wires Kong to the plugin server the way Kong 3.9 reads it (no Docker engine here to run it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { pluginServerDefinitions } from '../kong/plugin-servers';
import { REPOSITORY_ROOT, PLUGIN_NAMES } from '../support/gateway';

const compose = YAML.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'docker-compose.yml'), 'utf8'));
const kongEnvironment = compose.services.kong.environment as Record<string, string>;
const dockerfile = fs.readFileSync(path.join(REPOSITORY_ROOT, 'Dockerfile'), 'utf8');

describe('docker-compose.yml', () => {
  it('is a valid compose file (docker-compose config)', (context) => {
    const available = (() => {
      try {
        execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    // CI installs docker-compose (.ci/run); elsewhere the check is skipped, loudly.
    if (!available && process.env.CI !== 'true') return context.skip('docker-compose is not installed');
    execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: REPOSITORY_ROOT });
  });

  it('gives each plugin its own plugin server entry, socket and query command, and one start command', () => {
    const definitions = pluginServerDefinitions(kongEnvironment);
    assert.deepEqual(definitions.map((definition) => definition.name).sort(), [...PLUGIN_NAMES].sort());
    for (const definition of definitions) {
      // The server listens on <AI_SOCKET_DIR>/<name>.socket (plugins/kong/main.ts).
      assert.equal(definition.socket, path.posix.join(kongEnvironment.AI_SOCKET_DIR!, `${definition.name}.socket`));
      assert.equal(definition.queryCommand, `/usr/local/bin/kong-ai-plugin-server --dump ${definition.name}`);
    }
    const starters = definitions.filter((definition) => definition.startCommand !== null);
    assert.equal(starters.length, 1);
    assert.equal(starters[0]!.startCommand, '/usr/local/bin/kong-ai-plugin-server');
  });

  it('enables the plugins in Kong and never starts the plugin server verbose', () => {
    const enabled = kongEnvironment.KONG_PLUGINS!.split(',');
    assert.ok(enabled.includes('bundled'));
    for (const name of PLUGIN_NAMES) assert.ok(enabled.includes(name), name);
    for (const [key, value] of Object.entries(kongEnvironment)) assert.doesNotMatch(String(value), /(^|\s)(-v|--verbose)(\s|$)/, key);
    assert.doesNotMatch(dockerfile, /kong-ai-plugin-server[^\n]*\s-v\b/);
  });

  it('declares to nginx every variable the plugin server reads, and sets it', () => {
    const declared = kongEnvironment.KONG_NGINX_MAIN_ENV!.split(/;\s*env\s+/).map((name) => name.trim());
    const kongYml = fs.readFileSync(path.join(REPOSITORY_ROOT, 'kong.yml'), 'utf8');
    const vaultVariables = [...kongYml.matchAll(/\{vault:\/\/env\/([a-z0-9_-]+)/gi)].map((match) => match[1]!.toUpperCase().replace(/-/g, '_'));
    for (const variable of ['AI_SOCKET_DIR', 'AI_CONNECTOR_LISTEN', ...vaultVariables]) {
      assert.ok(declared.includes(variable), `${variable} is not declared in KONG_NGINX_MAIN_ENV`);
      assert.ok(kongEnvironment[variable], `${variable} is not set`);
    }
  });

  it('points Kong at the connector the plugin server listens on', () => {
    assert.match(fs.readFileSync(path.join(REPOSITORY_ROOT, 'kong.yml'), 'utf8'), new RegExp(`url: http://${kongEnvironment.AI_CONNECTOR_LISTEN!.replace(/\./g, '\\.')}\\b`));
  });

  it('builds the Kong image from the official Kong 3.9 image with Node 20 and runs the mock from its own image', () => {
    assert.match(dockerfile, /^FROM kong:3\.9\b/m);
    assert.match(dockerfile, /^FROM node:20/m);
    assert.equal(compose.services.kong.build.target, 'kong');
    assert.equal(compose.services['mock-llm'].build.target, 'mock-llm');
    assert.ok(compose.services.redis);
  });
});
