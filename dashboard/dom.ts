/*
 * The dashboard's only way to make DOM: elements and text nodes. Job data (results, logs,
 * reasons, types) is untrusted, so nothing here parses markup: no innerHTML, no
 * insertAdjacentHTML, no event-handler attributes. The page's CSP also requires Trusted Types
 * for script sinks with no policy allowed, so any markup sink would throw rather than run.
 */

/** What a child can be: an element, text (shown as text), or nothing. */
export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  id?: string;
  /** Plain attributes; names starting with `on` and `style` are refused. */
  attrs?: Record<string, string | number | boolean | null | undefined>;
  dataset?: Record<string, string>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

/** An HTML element with `props` and `children` (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, props);
  append(element, ...children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element (charts). */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  append(element, ...children);
  return element;
}

function apply(element: HTMLElement, props: Props): void {
  if (props.class !== undefined) element.className = props.class;
  if (props.id !== undefined) element.id = props.id;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (/^on/i.test(name) || name.toLowerCase() === 'style') throw new Error(`refusing attribute ${name}`);
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [name, value] of Object.entries(props.dataset ?? {})) element.dataset[name] = value;
  for (const [name, listener] of Object.entries(props.on ?? {})) element.addEventListener(name, listener as EventListener);
}

/** Appends children; strings and numbers as text nodes, never as markup. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** `12.3 s`, `450 ms`, `2 min 5 s`. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${(Math.round(seconds * 10) / 10).toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** A local date and time, to the second; `–` for none. */
export function formatTime(iso: string | null | undefined): string {
  if (typeof iso !== 'string' || iso === '') return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { hour12: false });
}

/** A number with at most `digits` decimals and thousands grouped. */
export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** A status badge, e.g. COMPLETED in green. */
export function statusBadge(status: string): HTMLSpanElement {
  return h('span', { class: `badge status-${status.toLowerCase()}`, dataset: { status } }, status);
}

/** A native progress bar (percentage, or indeterminate while unknown), with its value as text. */
export function progressBar(percentage: number | null | undefined, final: boolean): HTMLProgressElement {
  const bar = h('progress', { attrs: { max: 100 } });
  updateProgressBar(bar, percentage, final);
  return bar;
}

export function updateProgressBar(bar: HTMLProgressElement, percentage: number | null | undefined, final: boolean): void {
  if (typeof percentage === 'number') bar.value = percentage;
  else if (final) bar.value = 100;
  else bar.removeAttribute('value'); // indeterminate
  bar.textContent = typeof percentage === 'number' ? `${percentage}%` : '';
  bar.dataset.percentage = typeof percentage === 'number' ? String(percentage) : '';
}
