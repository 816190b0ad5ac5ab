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

export function problem(status: number, slug: string, title: string, detail: string, extensions?: Record<string, unknown>): Problem {
  return { type: TYPE_BASE + slug, title, status, detail, ...extensions };
}
