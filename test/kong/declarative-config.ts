// Loads a DB-less kong.yml (format 3.0): services, routes, plugins, consumers, key-auth credentials.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import YAML from 'yaml';

export interface Service {
  id: string;
  name: string | null;
  protocol: 'http' | 'https';
  host: string;
  port: number;
  path: string | null;
  read_timeout: number;
}

export interface Route {
  id: string;
  name: string | null;
  service: { id: string };
  paths: string[];
  methods: string[] | null;
  strip_path: boolean;
  response_buffering: boolean;
}

export interface Consumer {
  id: string;
  username: string | null;
  custom_id: string | null;
  /** Names of the consumer groups the consumer belongs to (kong.yml `consumers[].groups[].name`). */
  groups: string[];
}

export interface Credential {
  id: string;
  consumer: { id: string };
  key: string;
}

export interface PluginEntity {
  id: string;
  name: string;
  enabled: boolean;
  route: { id: string } | null;
  service: { id: string } | null;
  consumer: { id: string } | null;
  config: Record<string, unknown>;
}

export interface DeclarativeConfig {
  services: Service[];
  routes: Route[];
  consumers: Consumer[];
  credentials: Credential[];
  plugins: PluginEntity[];
}

type Raw = Record<string, unknown>;

/** Reads kong.yml; `replace` substitutes literal strings first (tests point addresses at local ports). */
export function loadDeclarativeConfig(file: string, replace: Record<string, string> = {}): DeclarativeConfig {
  let text = fs.readFileSync(file, 'utf8');
  for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
  return parseDeclarativeConfig(YAML.parse(text) as Raw);
}

export function parseDeclarativeConfig(document: Raw): DeclarativeConfig {
  if (document._format_version !== '3.0') throw new Error('declarative config: _format_version must be "3.0"');
  const config: DeclarativeConfig = { services: [], routes: [], consumers: [], credentials: [], plugins: [] };
  const byName = { services: new Map<string, string>(), routes: new Map<string, string>(), consumers: new Map<string, string>() };

  for (const rawService of list(document.services)) {
    const service = toService(rawService);
    config.services.push(service);
    if (service.name) byName.services.set(service.name, service.id);
    for (const rawRoute of list(rawService.routes)) {
      const route = toRoute(rawRoute, service.id);
      config.routes.push(route);
      if (route.name) byName.routes.set(route.name, route.id);
      for (const plugin of list(rawRoute.plugins)) config.plugins.push(toPlugin(plugin, { route: { id: route.id } }));
    }
    for (const plugin of list(rawService.plugins)) config.plugins.push(toPlugin(plugin, { service: { id: service.id } }));
  }
  for (const rawRoute of list(document.routes)) {
    const serviceId = byName.services.get(String(rawRoute.service)) ?? String(rawRoute.service);
    const route = toRoute(rawRoute, serviceId);
    config.routes.push(route);
    if (route.name) byName.routes.set(route.name, route.id);
    for (const plugin of list(rawRoute.plugins)) config.plugins.push(toPlugin(plugin, { route: { id: route.id } }));
  }
  for (const rawConsumer of list(document.consumers)) {
    const consumer: Consumer = {
      id: idOf(rawConsumer),
      username: stringOrNull(rawConsumer.username),
      custom_id: stringOrNull(rawConsumer.custom_id),
      groups: list(rawConsumer.groups).map((group) => String(group.name)),
    };
    config.consumers.push(consumer);
    if (consumer.username) byName.consumers.set(consumer.username, consumer.id);
    for (const credential of list(rawConsumer.keyauth_credentials)) {
      config.credentials.push({ id: idOf(credential), consumer: { id: consumer.id }, key: String(credential.key) });
    }
    for (const plugin of list(rawConsumer.plugins)) config.plugins.push(toPlugin(plugin, { consumer: { id: consumer.id } }));
  }
  // Top-level plugins reference their scope by name or id.
  for (const rawPlugin of list(document.plugins)) {
    const reference = (key: 'service' | 'route' | 'consumer', names: Map<string, string>) =>
      rawPlugin[key] === undefined || rawPlugin[key] === null ? undefined : { id: names.get(String(rawPlugin[key])) ?? String(rawPlugin[key]) };
    config.plugins.push(
      toPlugin(rawPlugin, {
        service: reference('service', byName.services),
        route: reference('route', byName.routes),
        consumer: reference('consumer', byName.consumers),
      }),
    );
  }
  return config;
}

function toService(raw: Raw): Service {
  const url = raw.url === undefined ? null : new URL(String(raw.url));
  const protocol = String(url?.protocol.replace(':', '') ?? raw.protocol ?? 'http') as 'http' | 'https';
  return {
    id: idOf(raw),
    name: stringOrNull(raw.name),
    protocol,
    host: url?.hostname ?? String(raw.host),
    port: Number(url?.port || raw.port || (protocol === 'https' ? 443 : 80)),
    path: url ? (url.pathname === '/' && !String(raw.url).endsWith('/') ? null : url.pathname) : stringOrNull(raw.path),
    read_timeout: Number(raw.read_timeout ?? 60_000),
  };
}

function toRoute(raw: Raw, serviceId: string): Route {
  return {
    id: idOf(raw),
    name: stringOrNull(raw.name),
    service: { id: serviceId },
    paths: list(raw.paths).map(String),
    methods: raw.methods === undefined ? null : list(raw.methods).map(String),
    strip_path: raw.strip_path !== false,
    response_buffering: raw.response_buffering !== false,
  };
}

function toPlugin(raw: Raw, scope: { route?: { id: string }; service?: { id: string }; consumer?: { id: string } }): PluginEntity {
  return {
    id: idOf(raw),
    name: String(raw.name),
    enabled: raw.enabled !== false,
    route: scope.route ?? null,
    service: scope.service ?? null,
    consumer: scope.consumer ?? null,
    config: (raw.config as Raw | undefined) ?? {},
  };
}

function list(value: unknown): Raw[] {
  return Array.isArray(value) ? (value as Raw[]) : [];
}

function idOf(raw: Raw): string {
  return typeof raw.id === 'string' ? raw.id : randomUUID();
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export interface RouteMatch {
  route: Route;
  service: Service;
  /** The path Kong sends upstream (service path joined with the stripped request path). */
  upstreamPath: string;
}

/** Kong's traditional_compatible router, for prefix paths: the longest matching prefix wins. */
export function matchRoute(config: DeclarativeConfig, method: string, path: string): RouteMatch | null {
  let best: { route: Route; prefix: string } | null = null;
  for (const route of config.routes) {
    if (route.methods && !route.methods.includes(method)) continue;
    for (const prefix of route.paths.length ? route.paths : ['/']) {
      if (path.startsWith(prefix) && (!best || prefix.length > best.prefix.length)) best = { route, prefix };
    }
  }
  if (!best) return null;
  const service = config.services.find((candidate) => candidate.id === best.route.service.id);
  if (!service) return null;
  const rest = best.route.strip_path ? path.slice(best.prefix.length) : path;
  const upstreamPath = joinPaths(service.path ?? '/', rest);
  return { route: best.route, service, upstreamPath };
}

function joinPaths(base: string, rest: string): string {
  if (rest === '' || rest === '/') return base;
  return `${base.replace(/\/$/, '')}/${rest.replace(/^\//, '')}`;
}

/**
 * The one config of plugin `name` that applies (kong/runloop/plugins_iterator.lua combos):
 * the most specific scope wins, in Kong's order of precedence.
 */
export function pluginFor(config: DeclarativeConfig, name: string, routeId: string, serviceId: string, consumerId: string | null): PluginEntity | null {
  const precedence = ['route,service,consumer', 'route,consumer', 'service,consumer', 'route,service', 'consumer', 'route', 'service', ''];
  let best: { plugin: PluginEntity; rank: number } | null = null;
  for (const plugin of config.plugins) {
    if (plugin.name !== name || !plugin.enabled) continue;
    if (plugin.route && plugin.route.id !== routeId) continue;
    if (plugin.service && plugin.service.id !== serviceId) continue;
    if (plugin.consumer && plugin.consumer.id !== consumerId) continue;
    const key = [plugin.route && 'route', plugin.service && 'service', plugin.consumer && 'consumer'].filter(Boolean).join(',');
    const rank = precedence.indexOf(key);
    if (!best || rank < best.rank) best = { plugin, rank };
  }
  return best?.plugin ?? null;
}
