import { h, replaceChildren } from './dom.js';
import { describeError } from './job-detail.js';
import type { Session } from './session.js';

const EXAMPLES = [
  '/_api/version', '/_admin/time', '/_admin/sleep?duration=5', '/_admin/echo',
  '/_admin/steps?count=20&ms=250', '/_admin/report?records=2000&ms=1', '/_admin/fail?status=503', '/_admin/spin?duration=30',
];

/**
 * A newcomer's first minutes: send one request in one of the three ways a client can wait
 * (watch it as an operation, fire and forget, or block for the answer) and see what came back.
 */
export function tryRouteView(session: Session, watch: (operationId: string) => void): { element: HTMLElement; dispose: () => void } {
  const method = h('select', { attrs: { name: 'method', 'aria-label': 'Method' } }, ...['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((name) => h('option', {}, name)));
  const path = h('input', { attrs: { name: 'path', required: true, value: '/_admin/sleep?duration=5', list: 'example-paths', 'aria-label': 'Path', spellcheck: 'false' } });
  const examples = h('datalist', { id: 'example-paths' }, ...EXAMPLES.map((example) => h('option', { attrs: { value: example } })));
  const body = h('textarea', { attrs: { name: 'body', rows: 5, placeholder: '{"hello": "world"} (JSON is sent as application/json)', 'aria-label': 'Body', spellcheck: 'false' } });
  const modes: Array<[string, string]> = [
    ['operation', 'Store it and watch it (Prefer: respond-async)'],
    ['fire', 'Fire and forget (x-arango-async: true)'],
    ['blocking', 'Wait for the answer (blocking)'],
  ];
  const modeInputs = modes.map(([value, label], index) => {
    const input = h('input', { attrs: { type: 'radio', name: 'mode', value, checked: index === 0 } });
    return h('label', { class: 'radio' }, input, ` ${label}`);
  });
  const outcome = h('div', { class: 'outcome', attrs: { role: 'status' } });
  const submit = h('button', { attrs: { type: 'submit' } }, 'Send');
  const form = h('form', { class: 'try', on: { submit: (event) => {
    event.preventDefault();
    void send();
  } } },
  h('div', { class: 'request-line' }, method, path, examples),
  h('label', { class: 'block' }, 'Body ', body),
  h('fieldset', {}, h('legend', {}, 'How to wait'), ...modeInputs),
  submit);

  const send = async (): Promise<void> => {
    submit.disabled = true;
    replaceChildren(outcome, 'Sending…');
    const mode = (form.elements.namedItem('mode') as RadioNodeList).value;
    const text = body.value;
    const headers: Record<string, string> = {};
    if (text.trim() !== '') headers['content-type'] = isJson(text) ? 'application/json' : 'text/plain; charset=utf-8';
    try {
      if (mode === 'operation') {
        const operation = await session.client.submit(method.value, path.value, { body: text.trim() === '' ? undefined : text, headers });
        watch(operation.id);
        return;
      }
      if (mode === 'fire') headers['x-arango-async'] = 'true';
      const init: RequestInit = { headers };
      if (text.trim() !== '') init.body = text;
      const started = performance.now();
      const response = await session.client.request(method.value, path.value, init);
      const answer = await response.text();
      const took = Math.round(performance.now() - started);
      replaceChildren(outcome,
        h('p', {}, `HTTP ${response.status} in ${took} ms`, mode === 'fire' && response.status === 202 ? ': accepted; nobody will collect the result.' : ''),
        answer === '' ? null : h('pre', { class: 'preview' }, answer.length > 65_536 ? `${answer.slice(0, 65_536)}…` : answer));
    } catch (error) {
      replaceChildren(outcome, h('p', { class: 'notice' }, describeError(error)));
    } finally {
      submit.disabled = false;
    }
  };

  const element = h('section', { class: 'try-view', dataset: { view: 'try' } },
    h('h1', {}, 'Try a route'),
    h('p', { class: 'hint' }, 'Send a request to one of the server\'s routes. Stored, it becomes an operation you can watch, cancel and retry; the demo routes (steps, report, spin, fail) need --server.demo-handlers true.'),
    form, outcome);
  return { element, dispose: () => undefined };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
