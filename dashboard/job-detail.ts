import { FINAL_STATUSES, OperationGoneError, type Operation, type OperationStatus, type Progress } from '../client/index.js';
import { formatSeconds, formatTime, h, progressBar, replaceChildren, statusBadge, updateProgressBar, type Child } from './dom.js';
import type { Session } from './session.js';

/** The result preview shows at most this many bytes, as text. */
export const PREVIEW_BYTES = 64 * 1024;
/** Status refreshes while events come in, at most this often. */
const REFRESH_MS = 500;

interface Attempt { attempt: number; startedAt: string | null; endedAt: string; error: { code?: string; message?: string; status?: number } }
interface Delivery { attempt: number; at: string; deliveryId: string; event: string; outcome: string; statusCode?: number; error?: string; nextAttemptAt?: string }
interface DetailStatus extends OperationStatus {
  owner?: string;
  timestamps?: { created: string; started: string | null; finished: string | null };
  completedAt?: string;
  failedAt?: string;
  cancelledAt?: string;
  expiresAt?: string;
  estimatedCompletion?: string;
  attempt?: number;
  nextAttemptAt?: string;
  attempts?: Attempt[];
  webhook?: { url: string; events: string[]; deliveries: Delivery[] };
}

/**
 * One operation: its status, progress and phases, timestamps and attempts, the live log, its
 * webhook's deliveries and a text preview of its result; cancel (with a reason), retry and
 * delete. It follows the operation's event stream (SSE over fetch, resumed after a drop) and
 * asks for the full status again as events come in.
 */
export function jobDetailView(session: Session, operationId: string, onDeleted: (message: string) => void): { element: HTMLElement; dispose: () => void } {
  const operation = session.client.operation(operationId);
  const controller = new AbortController();
  const heading = h('h1', {}, `Operation ${operationId}`);
  const badge = h('span', { class: 'heading-status' });
  const notice = h('p', { class: 'notice', attrs: { hidden: true, role: 'alert' } });
  const bar = progressBar(null, false);
  const progressText = h('span', { class: 'progress-text', dataset: { role: 'progress-text' } });
  const phases = h('ol', { class: 'phases' });
  const facts = h('dl', { class: 'facts' });
  const attempts = h('div', { class: 'attempts' });
  const log = h('ol', { class: 'log', dataset: { role: 'log' } });
  const logNote = h('p', { class: 'hint' });
  const webhook = h('div', { class: 'webhook' });
  const preview = h('pre', { class: 'preview', id: 'result-preview', dataset: { role: 'result' } });
  const previewNote = h('p', { class: 'hint' });

  const reasonInput = h('input', { attrs: { name: 'reason', placeholder: 'reason (optional)', maxlength: 1000, 'aria-label': 'Cancel reason' } });
  const cancelButton = h('button', { class: 'danger', attrs: { type: 'submit' }, dataset: { action: 'cancel' } }, 'Cancel');
  const retryButton = h('button', { attrs: { type: 'button' }, dataset: { action: 'retry' } }, 'Retry');
  const deleteButton = h('button', { class: 'secondary', attrs: { type: 'button' }, dataset: { action: 'delete' } }, 'Delete');
  const cancelForm = h('form', { class: 'inline', on: { submit: (event) => {
    event.preventDefault();
    void act(cancelButton, async () => {
      const reason = reasonInput.value.trim();
      await operation.cancel(reason === '' ? undefined : reason);
      reasonInput.value = '';
    });
  } } }, reasonInput, cancelButton);
  retryButton.addEventListener('click', () => void act(retryButton, async () => {
    await operation.retry();
    log.replaceChildren();
    follow(); // a new run: a new stream
  }));
  deleteButton.addEventListener('click', () => void act(deleteButton, async () => {
    if (!confirm(`Delete operation ${operationId} and its result?`)) return;
    await operation.remove();
    onDeleted(`Operation ${operationId} deleted.`);
  }));

  const element = h('section', { class: 'job-detail', dataset: { view: 'job', operationId } },
    h('p', {}, h('a', { attrs: { href: '#/jobs' } }, '« Jobs')),
    h('header', { class: 'detail-header' }, heading, badge),
    notice,
    h('div', { class: 'actions' }, cancelForm, retryButton, deleteButton),
    h('section', { class: 'panel' }, h('h2', {}, 'Progress'), h('div', { class: 'progress-line' }, bar, progressText), phases),
    h('section', { class: 'panel' }, h('h2', {}, 'Details'), facts, attempts),
    h('section', { class: 'panel' }, h('h2', {}, 'Log'), log, logNote),
    h('section', { class: 'panel' }, h('h2', {}, 'Webhook'), webhook),
    h('section', { class: 'panel' }, h('h2', {}, 'Result'), previewNote, preview));

  let status: DetailStatus | null = null;
  let gone = false;

  const showError = (message: string | null): void => {
    notice.hidden = message === null;
    notice.textContent = message ?? '';
  };

  /** Runs a button's action, showing its failure; the button is disabled meanwhile. */
  async function act(button: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
    button.disabled = true;
    try {
      showError(null);
      await action();
      await refreshStatus();
    } catch (error) {
      showError(describeError(error));
    } finally {
      if (status !== null) setButtons(status.status);
    }
  }

  const setButtons = (state: string): void => {
    const final = FINAL_STATUSES.has(state);
    cancelButton.disabled = final || gone;
    reasonInput.disabled = final || gone;
    retryButton.disabled = !(state === 'FAILED' || state === 'CANCELLED') || gone;
    deleteButton.disabled = !final || gone;
  };

  const showProgress = (progress: Progress | null | undefined, state: string): void => {
    const final = FINAL_STATUSES.has(state);
    const percentage = progress?.percentage ?? (state === 'COMPLETED' || state === 'COMPLETED_WITH_ERRORS' ? 100 : null);
    updateProgressBar(bar, percentage, final);
    const parts = [percentage === null ? (final ? '' : 'running, no percentage reported') : `${percentage}%`];
    if (progress?.current != null && progress.total != null) parts.push(`${progress.current} of ${progress.total}`);
    if (progress?.phase) parts.push(`phase ${progress.phase}`);
    if (progress?.message) parts.push(progress.message);
    progressText.textContent = parts.filter((part) => part !== '').join(' · ');
    replaceChildren(phases, ...(progress?.phases ?? []).map((phase) => h('li', { dataset: { status: phase.status } },
      statusBadge(phase.status), ` ${phase.name}`, phase.duration === undefined ? null : ` (${formatSeconds(phase.duration)})`,
      phase.percentage === undefined ? null : ` ${phase.percentage}%`)));
  };

  const showStatus = (next: DetailStatus): void => {
    status = next;
    element.dataset.status = next.status;
    replaceChildren(badge, statusBadge(next.status));
    showProgress(next.progress, next.status);
    setButtons(next.status);
    const rows: Array<[string, Child]> = [
      ['Type', next.type ?? ''],
      ['Owner', next.owner ?? ''],
      ['Created', formatTime(next.timestamps?.created)],
      ['Started', formatTime(next.timestamps?.started)],
      ['Finished', formatTime(next.timestamps?.finished)],
    ];
    if (next.estimatedCompletion !== undefined) rows.push(['Estimated completion', formatTime(next.estimatedCompletion)]);
    if (next.expiresAt !== undefined) rows.push(['Expires', formatTime(next.expiresAt)]);
    if (next.attempt !== undefined) rows.push(['Attempt', String(next.attempt)]);
    if (next.nextAttemptAt !== undefined) rows.push(['Next attempt', formatTime(next.nextAttemptAt)]);
    if (next.reason !== undefined) rows.push(['Cancel reason', next.reason]);
    if (next.error !== undefined) rows.push(['Error', errorText(next.error)]);
    if (next.result !== undefined) rows.push(['Answer status', String(next.result.status)]);
    const warnings = (next.result as { warnings?: Array<{ code?: string; message?: string; affectedRecords?: number }> } | undefined)?.warnings ?? [];
    if (warnings.length > 0) {
      rows.push(['Warnings', h('ul', { class: 'warnings' }, ...warnings.map((warning) => h('li', {},
        h('code', {}, warning.code ?? ''), ` ${warning.message ?? ''}`, warning.affectedRecords === undefined ? null : ` (${warning.affectedRecords} records)`)))]);
    }
    replaceChildren(facts, ...rows.flatMap(([name, value]) => [h('dt', {}, name), h('dd', { dataset: { fact: name.toLowerCase() } }, value)]));
    const tried = next.attempts ?? [];
    replaceChildren(attempts, tried.length === 0 ? null : h('h3', {}, 'Failed attempts'),
      tried.length === 0 ? null : h('ol', {}, ...tried.map((attempt) => h('li', {},
        `#${attempt.attempt} ended ${formatTime(attempt.endedAt)}: `, attempt.error.code ?? '', ' ', attempt.error.message ?? ''))));
    showWebhook(next.webhook);
  };

  const showWebhook = (view: DetailStatus['webhook']): void => {
    if (view === undefined) return replaceChildren(webhook, h('p', { class: 'hint' }, 'No webhook registered (x-callback-url).'));
    replaceChildren(webhook,
      h('p', {}, 'To ', h('code', {}, view.url), ` for ${view.events.join(', ')}`),
      view.deliveries.length === 0 ? h('p', { class: 'hint' }, 'No delivery yet.') : h('table', { class: 'deliveries' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Event'), h('th', {}, 'Attempt'), h('th', {}, 'At'), h('th', {}, 'Outcome'), h('th', {}, 'Status'), h('th', {}, 'Error'))),
        h('tbody', {}, ...view.deliveries.map((delivery) => h('tr', { dataset: { outcome: delivery.outcome } },
          h('td', {}, delivery.event), h('td', {}, String(delivery.attempt)), h('td', {}, formatTime(delivery.at)),
          h('td', {}, delivery.outcome), h('td', {}, delivery.statusCode === undefined ? '' : String(delivery.statusCode)),
          h('td', {}, delivery.error ?? (delivery.nextAttemptAt === undefined ? '' : `next attempt ${formatTime(delivery.nextAttemptAt)}`)))))));
  };

  const refreshStatus = async (): Promise<void> => {
    try {
      showStatus(await operation.status(controller.signal) as DetailStatus);
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof OperationGoneError) {
        gone = true;
        setButtons('GONE');
        element.dataset.status = 'GONE';
        replaceChildren(badge, statusBadge('GONE'));
      }
      showError(describeError(error));
    }
  };

  const refreshLog = async (): Promise<void> => {
    try {
      const { lines, truncated } = await operation.logs(controller.signal);
      replaceChildren(log, ...lines.map((line) => h('li', {},
        h('time', {}, formatTime(line.timestamp)), ' ', line.message,
        line.fields === undefined ? null : h('code', {}, ` ${JSON.stringify(line.fields)}`))));
      logNote.textContent = lines.length === 0 ? 'No log lines.' : truncated ? 'Earlier lines were dropped (the log keeps the most recent).' : '';
    } catch (error) {
      if (!controller.signal.aborted && !(error instanceof OperationGoneError)) logNote.textContent = `Cannot read the log: ${describeError(error)}`;
    }
  };

  const refreshPreview = async (): Promise<void> => {
    if (status === null || !FINAL_STATUSES.has(status.status) || status.status === 'CANCELLED') {
      preview.textContent = '';
      previewNote.textContent = status?.status === 'CANCELLED' ? 'A cancelled operation has no result.' : 'The result shows here once the operation has ended.';
      return;
    }
    try {
      const text = await readPreview(session, operation, controller.signal);
      preview.textContent = text.text;
      previewNote.textContent = `HTTP ${text.status}, ${text.type || 'no content type'}, ${text.bytes} bytes${text.truncated ? ` (showing the first ${PREVIEW_BYTES / 1024} KiB)` : ''}; shown as text.`;
    } catch (error) {
      if (!controller.signal.aborted) previewNote.textContent = `Cannot read the result: ${describeError(error)}`;
    }
  };

  // Refreshes that events ask for, at most one per REFRESH_MS each.
  const throttled = (run: () => Promise<void>): (() => void) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return () => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        if (!controller.signal.aborted) void run();
      }, REFRESH_MS);
    };
  };
  const statusSoon = throttled(refreshStatus);
  const logSoon = throttled(refreshLog);

  /**
   * A webhook is delivered after its job ended, and retried later still: the page asks for the
   * status every 2 s while a delivery is due, for at most two minutes.
   */
  let deliveryTimer: ReturnType<typeof setInterval> | undefined;
  const deliveriesDue = (): boolean => {
    const view = (status as DetailStatus | null)?.webhook;
    if (view === undefined) return false;
    const last = view.deliveries.at(-1);
    return last === undefined || last.nextAttemptAt !== undefined;
  };
  const watchDeliveries = (): void => {
    if (deliveryTimer !== undefined || !deliveriesDue()) return;
    const until = Date.now() + 120_000;
    deliveryTimer = setInterval(() => {
      if (controller.signal.aborted || Date.now() > until || !deliveriesDue()) {
        clearInterval(deliveryTimer);
        deliveryTimer = undefined;
        return;
      }
      void refreshStatus();
    }, 2000);
  };

  let stream: AbortController | null = null;
  const follow = (): void => {
    stream?.abort();
    const own = new AbortController();
    stream = own;
    const signal = AbortSignal.any([controller.signal, own.signal]);
    void (async () => {
      try {
        for await (const event of operation.events({ signal })) {
          element.dataset.lastEvent = event.event;
          if (event.event === 'LOG') {
            logSoon();
            continue;
          }
          showProgress(event.progress, event.status);
          if (status !== null && status.status !== event.status) {
            status = { ...status, status: event.status };
            replaceChildren(badge, statusBadge(event.status));
            element.dataset.status = event.status;
            setButtons(event.status);
          }
          if (FINAL_STATUSES.has(event.event)) {
            await refreshStatus();
            await Promise.all([refreshLog(), refreshPreview()]);
            watchDeliveries();
            return;
          }
          statusSoon();
        }
        // The stream had ended before (204): what is there is final.
        await refreshStatus();
        await Promise.all([refreshLog(), refreshPreview()]);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof OperationGoneError) return refreshStatus();
        showError(`The live stream stopped: ${describeError(error)}`);
      }
    })();
  };

  void (async () => {
    await refreshStatus();
    if (gone) return;
    await Promise.all([refreshLog(), refreshPreview()]);
    const shown = status as DetailStatus | null; // set by refreshStatus
    if (shown !== null && !FINAL_STATUSES.has(shown.status)) follow();
    else watchDeliveries();
  })();
  return {
    element,
    dispose: () => {
      controller.abort();
      clearInterval(deliveryTimer);
    },
  };
}

/** The first PREVIEW_BYTES of the result, decoded as UTF-8 text (never parsed as markup), pretty-printed when it is whole JSON. */
async function readPreview(session: Session, operation: Operation, signal: AbortSignal): Promise<{ text: string; status: number; type: string; bytes: number; truncated: boolean }> {
  const response = await session.client.request('GET', `/_api/operations/${encodeURIComponent(operation.id)}/result`, { signal });
  const type = response.headers.get('content-type') ?? '';
  const declared = Number(response.headers.get('content-length'));
  const chunks: Uint8Array[] = [];
  let read = 0;
  let truncated = false;
  const reader = response.body?.getReader();
  while (reader !== undefined) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    read += value.byteLength;
    if (read > PREVIEW_BYTES) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(read, PREVIEW_BYTES));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.max(0, bytes.byteLength - offset));
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  let text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!truncated && /json/.test(type)) {
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // shown as it came
    }
  }
  return { text, status: response.status, type, bytes: Number.isFinite(declared) && declared > 0 ? declared : read, truncated };
}

function errorText(error: Record<string, unknown>): string {
  const parts = [error.title, error.detail, error.errorMessage, error.message].filter((part): part is string => typeof part === 'string');
  return parts.length === 0 ? JSON.stringify(error) : [...new Set(parts)].join(': ');
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const body = (error as { body?: unknown }).body as { detail?: string; errorMessage?: string; title?: string } | undefined;
    return body?.detail ?? body?.errorMessage ?? body?.title ?? error.message;
  }
  return String(error);
}
