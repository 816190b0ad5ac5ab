import { FINAL_STATUSES, type OperationEvent, type OperationState, type OperationStatus } from '../client/index.js';
import { formatSeconds, formatTime, h, progressBar, replaceChildren, statusBadge, updateProgressBar } from './dom.js';
import { LiveOperations } from './live.js';
import type { Session } from './session.js';

export const STATES = ['PENDING', 'PROCESSING', 'COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCELLED'];
const PAGE_SIZE = 20;
/** How often the first page looks for new operations. */
const REFRESH_MS = 2000;

/** The list's filters and position, kept in the URL's hash (`#/jobs?status=…&type=…&user=…&after=…`). */
export interface JobFilters {
  status: string;
  type: string;
  user: string;
  /** The cursor: operations below this id (empty: the newest). */
  after: string;
}

export function filtersOf(query: URLSearchParams): JobFilters {
  return { status: query.get('status') ?? '', type: query.get('type') ?? '', user: query.get('user') ?? '', after: query.get('after') ?? '' };
}

function hashOf(filters: JobFilters): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== '') query.set(name, value);
  const text = query.toString();
  return text === '' ? '#/jobs' : `#/jobs?${text}`;
}

interface HistoryItem extends OperationStatus {
  owner?: string;
  timestamps?: { created: string; started: string | null; finished: string | null };
  duration?: number | null;
}

interface Page {
  items: HistoryItem[];
  /** The cursor of the next (older) page; null on the last. */
  next: string | null;
  totalElements: number;
}

/**
 * One page of the history with the filters: the server filters by state and user; the type
 * is matched by the client (the server's history has no type filter), reading pages of 100
 * until 20 rows match or the history ends.
 */
async function loadPage(session: Session, filters: JobFilters, signal: AbortSignal): Promise<Page> {
  const items: HistoryItem[] = [];
  let totalElements = 0;
  const pages = session.client.historyPages({
    status: filters.status === '' ? undefined : filters.status as OperationState,
    type: filters.type === '' ? undefined : filters.type,
    user: filters.user === '' ? undefined : filters.user,
    after: filters.after,
    pageSize: filters.type === '' ? PAGE_SIZE : 100,
    signal,
  });
  for await (const page of pages) {
    totalElements = page.totalElements;
    for (const item of page.data as HistoryItem[]) {
      items.push(item);
      if (items.length === PAGE_SIZE) return { items, next: item.operationId, totalElements };
    }
  }
  return { items, next: null, totalElements };
}

/** The jobs view: filters, the table with live progress, paging. */
export function jobsView(session: Session, filters: JobFilters): { element: HTMLElement; dispose: () => void } {
  const controller = new AbortController();
  const live = new LiveOperations(session);
  const stateSelect = h('select', { attrs: { name: 'status', 'aria-label': 'State' } },
    h('option', { attrs: { value: '' } }, 'any state'), ...STATES.map((state) => h('option', { attrs: { value: state } }, state)));
  stateSelect.value = filters.status;
  const typeInput = h('input', { attrs: { name: 'type', placeholder: 'type, e.g. GET /_admin/sleep', list: 'known-types', 'aria-label': 'Type' } });
  typeInput.value = filters.type;
  const knownTypes = h('datalist', { id: 'known-types' });
  const userInput = h('input', { attrs: { name: 'user', placeholder: 'any user', 'aria-label': 'User' } });
  userInput.value = filters.user;
  const form = h('form', { class: 'filters', on: { submit: (event) => {
    event.preventDefault();
    location.hash = hashOf({ status: stateSelect.value, type: typeInput.value.trim(), user: userInput.value.trim(), after: '' });
  } } },
  h('label', {}, 'State ', stateSelect),
  h('label', {}, 'Type ', typeInput, knownTypes),
  session.superuser ? h('label', {}, 'User ', userInput) : null,
  h('button', { attrs: { type: 'submit' } }, 'Filter'),
  h('a', { class: 'button secondary', attrs: { href: '#/jobs' } }, 'Clear'));

  const body = h('tbody');
  const summary = h('p', { class: 'summary', attrs: { role: 'status' } }, 'Loading…');
  const pager = h('nav', { class: 'pager' });
  const table = h('table', { class: 'jobs' },
    h('thead', {}, h('tr', {},
      h('th', {}, 'Operation'), h('th', {}, 'Type'), session.superuser ? h('th', {}, 'Owner') : null, h('th', {}, 'State'),
      h('th', {}, 'Progress'), h('th', {}, 'Created'), h('th', {}, 'Duration'))),
    body);
  const element = h('section', { class: 'jobs-view', dataset: { view: 'jobs' } }, h('h1', {}, 'Jobs'), form, summary, table, pager);

  const rows = new Map<string, { row: HTMLTableRowElement; bar: HTMLProgressElement; state: HTMLTableCellElement }>();
  const types = new Set<string>();
  /** What the socket said last, so that a refresh of the page does not set bars back. */
  const known = new Map<string, { status: string; percentage: number | null }>();

  const render = (page: Page): void => {
    const ids = new Set(page.items.map((item) => item.operationId));
    for (const id of live.following) if (!ids.has(id)) live.unfollow(id);
    rows.clear();
    replaceChildren(body, ...page.items.map((item) => {
      const seen = known.get(item.operationId);
      const status = seen !== undefined && (FINAL_STATUSES.has(seen.status) || !FINAL_STATUSES.has(item.status)) ? seen.status : item.status;
      const final = FINAL_STATUSES.has(status);
      const bar = progressBar(final ? barOfFinal(status) : seen?.percentage ?? null, final);
      const state = h('td', {}, statusBadge(status));
      const row = h('tr', { dataset: { operationId: item.operationId, status } },
        h('td', {}, h('a', { attrs: { href: `#/jobs/${item.operationId}` } }, item.operationId)),
        h('td', { class: 'type' }, item.type ?? ''),
        session.superuser ? h('td', {}, item.owner ?? '') : null,
        state,
        h('td', { class: 'progress' }, bar),
        h('td', {}, formatTime(item.timestamps?.created)),
        h('td', {}, formatSeconds(item.duration ?? null)));
      rows.set(item.operationId, { row, bar, state });
      if (typeof item.type === 'string' && !types.has(item.type)) {
        types.add(item.type);
        knownTypes.append(h('option', { attrs: { value: item.type } }));
      }
      if (!final) live.follow(item.operationId, (event) => onEvent(item.operationId, event));
      return row;
    }));
    const shown = page.items.length;
    summary.textContent = shown === 0 ? 'No operations match.'
      : `${shown} shown${filters.type === '' ? ` of ${page.totalElements}` : ''}${filters.after === '' ? ', newest first' : ''}.`;
    replaceChildren(pager,
      filters.after === '' ? null : h('a', { class: 'button secondary', attrs: { href: hashOf({ ...filters, after: '' }) } }, '« Newest'),
      page.next === null ? null : h('a', { class: 'button secondary', dataset: { page: 'older' }, attrs: { href: hashOf({ ...filters, after: page.next }) } }, 'Older »'));
  };

  const onEvent = (id: string, event: OperationEvent | { event: 'ERROR' }): void => {
    const row = rows.get(id);
    if (row === undefined || event.event === 'ERROR') return;
    const update = event as OperationEvent;
    const final = FINAL_STATUSES.has(update.status);
    const percentage = final ? barOfFinal(update.status, update.progress?.percentage) : update.progress?.percentage ?? null;
    known.set(id, { status: update.status, percentage });
    updateProgressBar(row.bar, percentage, final);
    if (row.row.dataset.status !== update.status) {
      row.row.dataset.status = update.status;
      replaceChildren(row.state, statusBadge(update.status));
    }
  };

  let loading = false;
  const refresh = async (): Promise<void> => {
    if (loading) return;
    loading = true;
    try {
      render(await loadPage(session, filters, controller.signal));
    } catch (error) {
      if (!controller.signal.aborted) summary.textContent = `Cannot list the operations: ${(error as Error).message}`;
    } finally {
      loading = false;
    }
  };
  void refresh();
  // The newest page shows new operations as they come; an older page stays as it was.
  const timer = filters.after === '' ? setInterval(() => void refresh(), REFRESH_MS) : undefined;
  return {
    element,
    dispose: () => {
      clearInterval(timer);
      controller.abort();
      live.close();
    },
  };
}

/** A finished operation's bar: full when it completed, else where it stopped (empty when unknown). */
function barOfFinal(status: string, percentage?: number | null): number {
  return status === 'COMPLETED' || status === 'COMPLETED_WITH_ERRORS' ? 100 : percentage ?? 0;
}
