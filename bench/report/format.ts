import type { LoadRun } from './suite-results.js';

/** Error messages may hold a server's stderr: one line keeps tables and lists intact. */
export function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ⏎ ');
}

export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatCell(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return formatNumber(value);
    return formatNumber(value, Math.abs(value) >= 100 ? 0 : 2);
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value === null || value === undefined) return '–';
  if (typeof value === 'object') return JSON.stringify(value);
  return oneLine(String(value)).replaceAll('|', '\\|');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function targetLabel(run: LoadRun): string {
  return run.settings === '' ? run.target : `${run.target} (${run.settings})`;
}
