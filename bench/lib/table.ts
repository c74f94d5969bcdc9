/** Plain-text tables for the terminal (and, with `markdown`, for docs). */
export type Cell = string | number;

const fmt = (c: Cell): string => (typeof c === 'number' ? formatNumber(c) : c);

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function renderTable(header: string[], rows: Cell[][], markdown = false): string {
  const text = rows.map((r) => r.map(fmt));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  // Numbers right-aligned, text left-aligned.
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === '–' || r[i] === ''),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join(markdown ? ' | ' : '  ');
  const out: string[] = [];
  if (markdown) {
    out.push(`| ${line(header)} |`);
    out.push(
      `| ${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(Math.max(1, w - 1))}:` : '-'.repeat(w))).join(' | ')} |`,
    );
    for (const r of text) out.push(`| ${line(r)} |`);
  } else {
    out.push(line(header));
    out.push(widths.map((w) => '─'.repeat(w)).join('  '));
    for (const r of text) out.push(line(r));
  }
  return out.join('\n');
}
