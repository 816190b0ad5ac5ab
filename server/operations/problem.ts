import type { ServerError } from '../errors/index.js';

/** RFC 9457 problem details, the error format of the operations surface. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://arango-async-jobs.dev/problems/';

/** The problem of a row of the error table, in the caller's words. */
export function problem(error: ServerError, detail: string, extensions?: Record<string, unknown>): Problem {
  return problemOf(error.status, error.type, error.title, detail, extensions);
}

/** A problem whose status is not the server's own (a failed job's, say). */
export function problemOf(status: number, slug: string, title: string, detail: string, extensions?: Record<string, unknown>): Problem {
  return { type: TYPE_BASE + slug, title, status, detail, ...extensions };
}
