/**
 * The trivial job of bench/dispatch.ts, in one module for both sides of the comparison: the
 * engine loads its `routes`, Piscina runs its default export. Both call the same function.
 */
import type { JobResponse, RouteDefinition, SubmitRequest } from '../index.js';

const RESPONSE: JobResponse = { status: 200 };

export function trivial(): JobResponse {
  return RESPONSE;
}

export const TRIVIAL_PATH = '/trivial';

export const routes: RouteDefinition[] = [{ method: 'GET', path: TRIVIAL_PATH, handler: trivial }];

/** Piscina's task function: the same request object goes in, the same response comes out. */
export default function runTrivialTask(_request: SubmitRequest): JobResponse {
  return trivial();
}
