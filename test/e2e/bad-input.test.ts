// Malformed requests of every kind, generated for every route of the repo's kong.yml: a 4xx in OpenAI's shape or a correct answer, never a crash, a logged body or a leak.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Agent, request } from 'undici';
import { loadDeclarativeConfig } from '../kong/declarative-config';
import { DEMO_API_KEY, REPOSITORY_ROOT, startGateway, type Gateway } from '../support/gateway';
import { startRedis, type RedisServer } from '../support/redis-server';
import { generateBadRequests, type BadRequest } from '../support/bad-requests';

/** In every body sent, so the plugin server's output can be searched for it. */
const MARKER = 'BODY-MARKER-7f3a';

interface Status {
  contexts: number;
  pending_events: number;
  token_limit_local_reservations: number;
  rss_mib: number;
  heap_used_mib: number;
}

describe('bad input on every kong.yml route', () => {
  let gateway: Gateway;
  let redis: RedisServer;
  const agent = new Agent({ connections: 8 });
  const routes = loadDeclarativeConfig(path.join(REPOSITORY_ROOT, 'kong.yml')).routes.map((route) => ({ name: route.name ?? route.id, path: route.paths[0]! }));

  before(async () => {
    redis = await startRedis();
    // --expose-gc lets the status endpoint collect garbage first, so memory figures are what is retained.
    // Trace level: the strictest test of "never logs a body". The cache gets a real Redis, so its store path runs too.
    gateway = await startGateway({ replace: { 'redis: { host: redis, port: 6379 }': `redis: { host: 127.0.0.1, port: ${redis.port} }` }, pluginServerEnvironment: { AI_LOG_LEVEL: 'trace', NODE_OPTIONS: '--expose-gc' } });
  });
  after(async () => {
    await agent.close();
    await gateway?.stop();
    await redis?.stop();
  });

  async function status(): Promise<Status> {
    return (await (await fetch(`${gateway.connectorUrl}/__ai/status?gc=1`)).json()) as Status;
  }

  async function send(routePath: string, bad: BadRequest): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { apikey: DEMO_API_KEY, ...bad.headers };
    if (bad.contentType !== null) headers['content-type'] = bad.contentType;
    const response = await request(`${gateway.kong.url}${routePath}`, { method: 'POST', headers, body: bad.body, dispatcher: agent });
    return { status: response.statusCode, body: await response.body.text() };
  }

  /** What is wrong with an answer, or null: a 4xx in OpenAI's error shape, or a well-formed answer of the route's API. */
  function problemWith(routeName: string, bad: BadRequest, answer: { status: number; body: string }): string | null {
    const label = `${routeName}: ${bad.name} → ${answer.status} ${answer.body.slice(0, 200)}`;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(answer.body) as Record<string, unknown>;
    } catch {
      return `not JSON: ${label}`;
    }
    if (answer.status === 200) {
      const field = routeName === 'openai-embeddings' ? 'data' : routeName === 'anthropic-messages' ? 'content' : 'choices';
      if (!Array.isArray(parsed[field])) return `an answer without ${field}: ${label}`;
      return bad.mayAnswer ? null : `answered although it should have been refused: ${label}`;
    }
    if (answer.status < 400 || answer.status >= 500) return `not a 4xx: ${label}`;
    const error = parsed.error as { message?: unknown; type?: unknown; code?: unknown } | undefined;
    // Anthropic SDK clients get a provider's own 4xx in Anthropic's shape (no `code`), as Anthropic would send it.
    const anthropicShaped = routeName === 'anthropic-messages' && parsed.type === 'error';
    if (typeof error?.message !== 'string' || error.message === '' || typeof error.type !== 'string' || !('code' in error || anthropicShaped)) return `not the error shape: ${label}`;
    if (bad.expectStatus !== undefined && answer.status !== bad.expectStatus) return `expected ${bad.expectStatus}: ${label}`;
    return null;
  }

  it('answers each malformed request with an OpenAI-shaped 4xx or a correct answer, without crashing, logging bodies or leaking', async () => {
    assert.deepEqual(
      routes.map((route) => route.name),
      ['openai-chat', 'anthropic-messages', 'openai-embeddings'],
      'kong.yml routes changed: teach generateBadRequests their valid bodies',
    );
    const pid = gateway.kong.pluginServer!.child!.pid;
    // Warm up every path once (models, tokenizers, Redis scripts) before taking the memory baseline.
    for (const route of routes) for (const bad of generateBadRequests(route.name, MARKER).filter((candidate) => candidate.name === 'valid')) assert.equal(problemWith(route.name, bad, await send(route.path, bad)), null);
    const baseline = await status();

    let sent = 0;
    const problems: string[] = [];
    let slowest = { ms: 0, what: '' };
    const statuses = new Map<number, number>();
    // Twice: memory after the second round must be where the first left it (nothing accumulates per request).
    let afterFirstRound: Status | null = null;
    for (let round = 0; round < 2; round += 1) {
      for (const route of routes) {
        for (const bad of generateBadRequests(route.name, MARKER)) {
          const started = performance.now();
          const answer = await send(route.path, bad);
          const took = Math.round(performance.now() - started);
          if (took > slowest.ms) slowest = { ms: took, what: `${route.name}: ${bad.name}` };
          const problem = problemWith(route.name, bad, answer);
          if (problem !== null && round === 0) problems.push(problem);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          sent += 1;
        }
      }
      if (round === 0) afterFirstRound = await settled();
    }
    const afterSecondRound = await settled();

    assert.deepEqual(problems, []);
    assert.ok(sent > 300, `only ${sent} requests generated`);
    assert.equal(gateway.kong.pluginServer!.child!.pid, pid, 'the plugin server was restarted');
    assert.equal(gateway.kong.pluginServer!.child!.exitCode, null, 'the plugin server exited');
    const output = gateway.kong.pluginServer!.output.join('');
    assert.match(output, /"level":20/, 'debug lines were written'); // the output is really captured
    assert.ok(!output.includes(MARKER), 'a request body reached the plugin server log');
    assert.ok(!output.includes('"level":50'), `the plugin server logged an error: ${output.split('\n').find((line) => line.includes('"level":50'))}`);

    for (const state of [afterFirstRound!, afterSecondRound]) {
      assert.equal(state.contexts, 0, 'request contexts left behind');
      assert.equal(state.pending_events, 0, 'RPC events left behind');
      assert.equal(state.token_limit_local_reservations, 0, 'token reservations left behind');
    }
    // The 10 MB bodies pass through the heap; collected, the heap is back where warm-up left it. RSS (what the
    // allocator keeps) may rise once, to the largest bodies' size, but not again on the second round.
    assert.ok(afterSecondRound.heap_used_mib <= baseline.heap_used_mib + 10, `heap ${baseline.heap_used_mib} MiB → ${afterSecondRound.heap_used_mib} MiB`);
    assert.ok(afterSecondRound.rss_mib <= afterFirstRound!.rss_mib + 30, `RSS grew from ${afterFirstRound!.rss_mib} MiB to ${afterSecondRound.rss_mib} MiB over the second round`);
    process.stdout.write(`# ${sent} bad requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}; heap ${baseline.heap_used_mib} → ${afterFirstRound!.heap_used_mib} → ${afterSecondRound.heap_used_mib} MiB, RSS ${baseline.rss_mib} → ${afterFirstRound!.rss_mib} → ${afterSecondRound.rss_mib} MiB; slowest ${slowest.ms} ms (${slowest.what})\n`);
  });

  /** Status once the last log phases have run, after a garbage collection. */
  async function settled(): Promise<Status> {
    const deadline = Date.now() + 10_000;
    let last = await status();
    while ((last.contexts > 0 || last.pending_events > 0 || last.token_limit_local_reservations > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      last = await status();
    }
    return last;
  }
});
