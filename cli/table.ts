/** A column of {@link formatTable}: its heading and which side its cells keep to. */
export interface Column {
  title: string;
  /** @defaultValue 'left' */
  align?: 'left' | 'right';
}

/**
 * A plain-text table: a heading row, then one row per entry, columns two spaces apart and as
 * wide as their widest cell, no trailing spaces (so that `grep` and `awk` read it easily).
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, index) => Math.max(column.title.length, ...rows.map((row) => (row[index] ?? '').length)));
  const formatRow = (cells: readonly string[]): string => columns
    .map((column, index) => {
      const cell = cells[index] ?? '';
      return column.align === 'right' ? cell.padStart(widths[index]) : cell.padEnd(widths[index]);
    })
    .join('  ')
    .trimEnd();
  return [formatRow(columns.map((column) => column.title)), ...rows.map(formatRow)].join('\n') + '\n';
}
