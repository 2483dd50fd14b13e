import { FileFormatError } from '@vmr/core';

/** Parse RFC 4180 CSV text (quoted fields may contain commas, quotes and newlines). */
export function parseCsv(text: string, source: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const t = text.replace(/^\uFEFF/, '');
  while (i < t.length) {
    const c = t[i];
    if (quoted) {
      if (c === '"') {
        if (t[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field.length === 0) {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      field = '';
      if (row.some((f) => f.length > 0)) rows.push(row);
      row = [];
      i += c === '\r' && t[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new FileFormatError(`${source}: unterminated quoted field`, { details: { path: source } });
  row.push(field);
  if (row.some((f) => f.length > 0)) rows.push(row);
  return rows;
}

/**
 * All numbers of a Python / NumPy literal, with their nesting: "[3 1 2]" (NumPy repr, maybe wrapped
 * over lines), "[3, 1, 2]", "[(0, 36), (36, 72)]", "[[ 0 36]\n [36 72]]", "array([1, 2])".
 * Returns a flat list of numbers or a list of number lists.
 */
export function parsePyNumberList(text: string, where: string): number[] | number[][] {
  const s = text.trim().replace(/^array\(/, '').replace(/\)$/, '').replace(/\(/g, '[').replace(/\)/g, ']');
  if (!s.startsWith('[') || !s.endsWith(']')) throw new FileFormatError(`${where}: not a list literal: ${JSON.stringify(text.slice(0, 80))}`);
  const inner = s.slice(1, -1).trim();
  const num = (tok: string): number => {
    const v = Number(tok.replace(/\.$/, ''));
    if (tok === '' || !Number.isFinite(v)) throw new FileFormatError(`${where}: ${JSON.stringify(tok)} is not a number in ${JSON.stringify(text.slice(0, 80))}`);
    return v;
  };
  const tokens = (part: string): number[] =>
    part
      .split(/[\s,]+/)
      .filter((x) => x.length > 0)
      .map(num);
  if (inner.includes('[')) {
    const groups = inner.match(/\[[^[\]]*\]/g) ?? [];
    const rest = inner.replace(/\[[^[\]]*\]/g, '').replace(/[\s,]/g, '');
    if (rest.length > 0) throw new FileFormatError(`${where}: unexpected text ${JSON.stringify(rest.slice(0, 20))} in a nested list`);
    return groups.map((g) => tokens(g.slice(1, -1)));
  }
  return tokens(inner);
}
