import type { RouteDefinition } from '../../engine/index.js';

/** What the operations surface shows as an operation's `type`: its route's `name`, else `METHOD /path/pattern`. */
export function operationType(route: RouteDefinition, method: string): string {
  return route.name ?? `${method} ${route.path}`;
}
