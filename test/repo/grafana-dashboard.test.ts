// The shipped Grafana dashboard only queries metrics the plugin server really exports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { registry } from '../../plugins/core/metrics';
import { REPOSITORY_ROOT } from '../support/gateway';

describe('grafana/kong-ai-gateway.json', () => {
  it('is a dashboard whose every query names exported metrics and labels', async () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'grafana/kong-ai-gateway.json'), 'utf8'));
    const exported = await registry.getMetricsAsJSON();
    const names = new Set<string>();
    const labels = new Set<string>(['le']);
    for (const metric of exported) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
      // Label names come from the metric's definition, so they count even before any sample exists.
      for (const label of (registry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] }).labelNames ?? []) labels.add(label);
    }
    const queries: string[] = [
      ...dashboard.panels.flatMap((panel: { targets: Array<{ expr: string }> }) => panel.targets.map((target) => target.expr)),
      ...dashboard.templating.list.filter((variable: { type: string }) => variable.type === 'query').map((variable: { query: { query: string } }) => variable.query.query),
    ];
    assert.ok(queries.length >= 12);
    for (const query of queries) {
      const metrics = [...query.matchAll(/\b(kong_ai_[a-z_]+)/g)].map((match) => match[1]!);
      assert.ok(metrics.length > 0, query);
      for (const metric of metrics) assert.ok(names.has(metric), `${metric} is not exported (in: ${query})`);
      for (const match of query.matchAll(/\b([a-z_]+)\s*(?:=~|!~|!=|=)\s*"/g)) assert.ok(labels.has(match[1]!), `label ${match[1]} is not exported (in: ${query})`);
      for (const match of query.matchAll(/label_values\(\s*[a-z_]+\s*,\s*([a-z_]+)\s*\)/g)) assert.ok(labels.has(match[1]!), `label ${match[1]} is not exported (in: ${query})`);
      for (const match of query.matchAll(/by \(([^)]+)\)/g)) for (const label of match[1]!.split(',').map((part) => part.trim())) assert.ok(labels.has(label), `label ${label} is not exported (in: ${query})`);
    }
  });
});
