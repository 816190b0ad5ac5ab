import { pathToFileURL } from 'node:url';
import { EngineOptionsError } from './errors.js';
import type { RetryPolicy, RouteDefinition } from './types.js';

/** Most runs a retry policy may ask for (attempts are counted in a byte per job). */
const MAX_ATTEMPTS = 100;

/** Result of `RouteTable.match`. */
export type RouteMatch =
  | { kind: 'found'; routeIndex: number; params: Record<string, string> }
  | { kind: 'notFound' }
  | { kind: 'methodNotAllowed'; allowed: string[] };

interface CompiledRoute {
  index: number;
  methods: Set<string>;
  /** Literal segments, or null where the pattern has a parameter. */
  segments: (string | null)[];
  parameterNames: (string | null)[];
  definition: RouteDefinition;
}

const EMPTY_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Method + path pattern table, built the same way on the main thread (to route before anything
 * is queued, as ArangoDB does) and in every worker (to find the handler), so a route travels
 * between them as its index. Routes without parameters are found with one Map lookup.
 */
export class RouteTable {
  readonly routes: readonly RouteDefinition[];
  readonly #byExactPath = new Map<string, CompiledRoute[]>();
  readonly #patterns: CompiledRoute[] = [];
  readonly #byIndex: CompiledRoute[] = [];

  constructor(routes: readonly RouteDefinition[]) {
    this.routes = routes;
    routes.forEach((definition, index) => this.#add(definition, index));
  }

  /** Imports handler modules in order (each exports `routes` or a default array of routes). */
  static async load(moduleSpecifiers: readonly string[]): Promise<RouteTable> {
    const routes: RouteDefinition[] = [];
    for (const specifier of moduleSpecifiers) {
      const loaded = await import(toImportable(specifier));
      const list: unknown = loaded.routes ?? loaded.default;
      if (!Array.isArray(list)) {
        throw new EngineOptionsError(`handler module ${specifier} exports no "routes" array (nor a default one)`);
      }
      for (const route of list) routes.push(validateRoute(route, specifier));
    }
    return new RouteTable(routes);
  }

  match(method: string, path: string): RouteMatch {
    const exact = this.#byExactPath.get(path);
    if (exact !== undefined) {
      const route = pickMethod(exact, method);
      if (route !== undefined) return { kind: 'found', routeIndex: route.index, params: EMPTY_PARAMS };
    }
    const segments = path.split('/');
    let candidates: CompiledRoute[] | undefined = exact;
    for (const route of this.#patterns) {
      if (!segmentsMatch(route, segments)) continue;
      if (route.methods.has(method) || (method === 'HEAD' && route.methods.has('GET'))) {
        return { kind: 'found', routeIndex: route.index, params: extractParams(route, segments) };
      }
      candidates = candidates === undefined ? [route] : [...candidates, route];
    }
    if (candidates === undefined) return { kind: 'notFound' };
    return { kind: 'methodNotAllowed', allowed: [...new Set(candidates.flatMap((route) => [...route.methods]))] };
  }

  /** Parameters of `path` for a route already matched (workers re-derive them from the index). */
  params(routeIndex: number, path: string): Record<string, string> {
    const route = this.#byIndex[routeIndex];
    if (route.parameterNames.every((name) => name === null)) return EMPTY_PARAMS;
    return extractParams(route, path.split('/'));
  }

  #add(definition: RouteDefinition, index: number): void {
    const parts = definition.path.split('/');
    const methods = new Set((typeof definition.method === 'string' ? [definition.method] : definition.method).map((m) => m.toUpperCase()));
    const compiled: CompiledRoute = {
      index,
      methods,
      segments: parts.map((part) => (part.startsWith(':') ? null : part)),
      parameterNames: parts.map((part) => (part.startsWith(':') ? part.slice(1) : null)),
      definition,
    };
    this.#byIndex.push(compiled);
    if (compiled.segments.includes(null)) {
      this.#patterns.push(compiled);
    } else {
      const list = this.#byExactPath.get(definition.path) ?? [];
      list.push(compiled);
      this.#byExactPath.set(definition.path, list);
    }
  }
}

function pickMethod(routes: CompiledRoute[], method: string): CompiledRoute | undefined {
  for (const route of routes) if (route.methods.has(method)) return route;
  if (method === 'HEAD') for (const route of routes) if (route.methods.has('GET')) return route;
  return undefined;
}

function segmentsMatch(route: CompiledRoute, segments: string[]): boolean {
  if (route.segments.length !== segments.length) return false;
  for (let i = 0; i < segments.length; i++) {
    const literal = route.segments[i];
    if (literal === null ? segments[i] === '' : literal !== segments[i]) return false;
  }
  return true;
}

function extractParams(route: CompiledRoute, segments: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  route.parameterNames.forEach((name, i) => {
    if (name !== null) params[name] = decodeURIComponent(segments[i]);
  });
  return params;
}

function toImportable(specifier: string): string {
  return specifier.startsWith('file:') || specifier.startsWith('node:') ? specifier : pathToFileURL(specifier).href;
}

function validateRoute(route: unknown, specifier: string): RouteDefinition {
  const candidate = route as Partial<RouteDefinition> | null;
  const where = `handler module ${specifier}`;
  if (candidate === null || typeof candidate !== 'object') throw new EngineOptionsError(`${where}: a route must be an object`);
  if (typeof candidate.path !== 'string' || !candidate.path.startsWith('/')) {
    throw new EngineOptionsError(`${where}: route path must be a string starting with "/", got ${JSON.stringify(candidate.path)}`);
  }
  const methods = typeof candidate.method === 'string' ? [candidate.method] : candidate.method;
  if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string' && /^[A-Za-z]+$/.test(m))) {
    throw new EngineOptionsError(`${where}: route ${candidate.path} needs a method (or a list of methods)`);
  }
  if (typeof candidate.handler !== 'function') throw new EngineOptionsError(`${where}: route ${candidate.path} has no handler function`);
  if (candidate.timeoutMs !== undefined && !(Number.isFinite(candidate.timeoutMs) && candidate.timeoutMs >= 0)) {
    throw new EngineOptionsError(`${where}: route ${candidate.path} timeoutMs must be a non-negative number of milliseconds`);
  }
  if (candidate.name !== undefined && (typeof candidate.name !== 'string' || candidate.name === '' || candidate.name.length > 200)) {
    throw new EngineOptionsError(`${where}: route ${candidate.path} name must be a string of 1 to 200 characters`);
  }
  if (candidate.retry !== undefined) validateRetry(candidate.retry, `${where}: route ${candidate.path} retry`);
  return candidate as RouteDefinition;
}

function validateRetry(retry: unknown, where: string): void {
  const policy = retry as Partial<RetryPolicy> | null;
  if (policy === null || typeof policy !== 'object') throw new EngineOptionsError(`${where} must be an object { attempts, delayMs, maxDelayMs, jitter }`);
  if (!(Number.isInteger(policy.attempts) && policy.attempts! >= 1 && policy.attempts! <= MAX_ATTEMPTS)) {
    throw new EngineOptionsError(`${where}.attempts must be an integer from 1 to ${MAX_ATTEMPTS}`);
  }
  for (const key of ['delayMs', 'maxDelayMs'] as const) {
    const value = policy[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new EngineOptionsError(`${where}.${key} must be a non-negative number of milliseconds`);
  }
  if (policy.jitter !== undefined && typeof policy.jitter !== 'boolean') throw new EngineOptionsError(`${where}.jitter must be a boolean`);
}
