/**
 * MLflow's search-filter grammar, parsed for real (a tokenizer and a small recursive-descent parser),
 * for runs and experiments:
 *
 *   filter     := comparison ( AND comparison )*
 *   comparison := identifier op value
 *   identifier := [entity '.'] key          entity: metrics|metric, params|param|parameters|parameter,
 *                                           tags|tag, attributes|attribute|attr|run (default: attribute)
 *   key        := word(.word)* | `back-quoted` | "double-quoted"
 *   op         := = | != | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN
 *   value      := 'string' | "string" | number | ( value, … )
 *
 * Keywords are case-insensitive; a quoted value may contain spaces and keywords (`'rock and roll'`);
 * quotes inside a string are doubled (`'it''s'`) or backslash-escaped. OR is not part of MLflow's
 * grammar and is refused with a message saying so.
 */
import { InvalidArgumentError } from '@vmr/core';
import type { FilterClause, FilterEntity, FilterOp, FilterValue } from '../types';

type Token =
  | { t: 'ident'; v: string; pos: number }
  | { t: 'string'; v: string; pos: number }
  | { t: 'number'; v: number; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'punct'; v: '(' | ')' | ','; pos: number };

const ENTITY_ALIASES: Record<string, FilterEntity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

function fail(filter: string, pos: number, what: string): never {
  throw new InvalidArgumentError(`invalid search filter ${JSON.stringify(filter)} at character ${pos + 1}: ${what}`);
}

/** Read a quoted run starting at `i` (the quote character); returns [text, next index]. */
function readQuoted(src: string, i: number): [string, number] {
  const q = src[i];
  let out = '';
  let j = i + 1;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\' && j + 1 < src.length) {
      out += src[j + 1];
      j += 2;
      continue;
    }
    if (c === q) {
      if (src[j + 1] === q) {
        out += q;
        j += 2;
        continue;
      }
      return [out, j + 1];
    }
    out += c;
    j += 1;
  }
  fail(src, i, `unterminated ${q === '`' ? 'back-quoted key' : 'string'}`);
}

function tokenize(src: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === "'" || c === '"') {
      const [v, next] = readQuoted(src, i);
      toks.push({ t: 'string', v, pos: i });
      i = next;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      toks.push({ t: 'punct', v: c, pos: i });
      i += 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=' || two === '<>' || two === '==') {
      toks.push({ t: 'op', v: two === '<>' ? '!=' : two === '==' ? '=' : two, pos: i });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      toks.push({ t: 'op', v: c, pos: i });
      i += 1;
      continue;
    }
    const num = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.`])/.exec(src.slice(i));
    if (num && (toks.length === 0 || toks[toks.length - 1].t === 'op' || toks[toks.length - 1].t === 'punct')) {
      toks.push({ t: 'number', v: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    // An identifier: words, dots, dashes, slashes and colons, with back-quoted segments (`a.b`).
    let j = i;
    let text = '';
    while (j < src.length) {
      const d = src[j];
      if (d === '`') {
        const [v, next] = readQuoted(src, j);
        text += `\u0000${v}\u0000`;
        j = next;
        continue;
      }
      if (/[\w.\-/:]/.test(d)) {
        text += d;
        j += 1;
        continue;
      }
      // params."key with spaces": a double-quoted segment right after a dot belongs to the identifier.
      if (d === '"' && text.endsWith('.')) {
        const [v, next] = readQuoted(src, j);
        text += `\u0000${v}\u0000`;
        j = next;
        continue;
      }
      break;
    }
    if (j === i) fail(src, i, `unexpected character '${c}'`);
    toks.push({ t: 'ident', v: text, pos: i });
    i = j;
  }
  return toks;
}

function keyword(tok: Token | undefined, word: string): boolean {
  return tok?.t === 'ident' && tok.v.toUpperCase() === word;
}

/** Split an identifier into entity and key (`tags.\`mlflow.runName\`` → tag, mlflow.runName). */
function splitIdentifier(src: string, tok: Token & { t: 'ident' }): { entity: FilterEntity; key: string } {
  const raw = tok.v;
  let entity: FilterEntity = 'attribute';
  let rest = raw;
  const dot = raw.indexOf('.');
  if (dot > 0 && !raw.slice(0, dot).includes('\u0000')) {
    const head = raw.slice(0, dot).toLowerCase();
    const e = ENTITY_ALIASES[head];
    if (e) {
      entity = e;
      rest = raw.slice(dot + 1);
    } else if (head === 'dataset' || head === 'datasets') {
      fail(src, tok.pos, `dataset filters are not supported by this server`);
    } else {
      fail(src, tok.pos, `unknown entity '${raw.slice(0, dot)}' (one of metrics, params, tags, attributes)`);
    }
  }
  const key = rest.replace(/\u0000/g, '');
  if (!key) fail(src, tok.pos, `missing key after '${raw.slice(0, dot + 1)}'`);
  return { entity, key };
}

function parseValue(src: string, toks: Token[], i: number): [string | number, number] {
  const t = toks[i];
  if (!t) fail(src, src.length, 'expected a value');
  if (t.t === 'string' || t.t === 'number') return [t.v, i + 1];
  fail(src, t.pos, `expected a quoted string or a number, got '${String(t.v)}'`);
}

/** Parse an MLflow search filter into AND-ed clauses (empty filter → no clauses). */
export function parseSearchFilter(filter: string | undefined | null): FilterClause[] {
  if (filter === undefined || filter === null || !filter.trim()) return [];
  const src = filter;
  const toks = tokenize(src);
  const out: FilterClause[] = [];
  let i = 0;
  for (;;) {
    const idTok = toks[i];
    if (!idTok || idTok.t !== 'ident') fail(src, idTok?.pos ?? src.length, 'expected an identifier such as metrics.acc, params.lr or tags.`mlflow.runName`');
    const { entity, key } = splitIdentifier(src, idTok);
    i += 1;
    let op: FilterOp;
    const o = toks[i];
    if (o?.t === 'op') {
      op = o.v as FilterOp;
      i += 1;
    } else if (keyword(o, 'LIKE') || keyword(o, 'ILIKE') || keyword(o, 'IN')) {
      op = (o as { v: string }).v.toUpperCase() as FilterOp;
      i += 1;
    } else if (keyword(o, 'NOT') && keyword(toks[i + 1], 'IN')) {
      op = 'NOT IN';
      i += 2;
    } else {
      fail(src, o?.pos ?? src.length, `expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN) after '${idTok.v.replace(/\u0000/g, '`')}'`);
    }
    let value: FilterValue;
    if (op === 'IN' || op === 'NOT IN') {
      const open = toks[i];
      if (open?.t !== 'punct' || open.v !== '(') fail(src, open?.pos ?? src.length, `${op} needs a parenthesised list, e.g. ('a', 'b')`);
      i += 1;
      const list: (string | number)[] = [];
      for (;;) {
        const [v, next] = parseValue(src, toks, i);
        list.push(v);
        i = next;
        const sep = toks[i];
        if (sep?.t === 'punct' && sep.v === ',') {
          i += 1;
          continue;
        }
        if (sep?.t === 'punct' && sep.v === ')') {
          i += 1;
          break;
        }
        fail(src, sep?.pos ?? src.length, "expected ',' or ')' in the value list");
      }
      value = list;
    } else {
      const [v, next] = parseValue(src, toks, i);
      value = v;
      i = next;
    }
    out.push({ entity, key, op, value });
    if (i >= toks.length) break;
    const conj = toks[i];
    if (keyword(conj, 'AND')) {
      i += 1;
      if (i >= toks.length) fail(src, src.length, "expected a comparison after 'AND'");
      continue;
    }
    if (keyword(conj, 'OR')) fail(src, conj.pos, "OR is not supported by MLflow's search grammar; clauses can only be joined by AND");
    fail(src, conj.pos, `expected AND between comparisons, got '${String(conj.v)}'`);
  }
  return out;
}

/** MLflow's LIKE pattern (`%` any run, `_` one character) as an anchored regular expression. */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'i' : '');
}

/** Evaluate one clause against a value in memory (used for experiment search and checks). */
export function matchesClause(clause: FilterClause, actual: string | number | undefined | null): boolean {
  // A missing param/tag/metric never matches (as in MLflow's SQL store, which joins on the key).
  if (actual === undefined || actual === null) return false;
  const v = clause.value;
  switch (clause.op) {
    case 'LIKE':
      return likeToRegExp(String(v), false).test(String(actual));
    case 'ILIKE':
      return likeToRegExp(String(v), true).test(String(actual));
    case 'IN':
      return (v as (string | number)[]).some((x) => String(x) === String(actual));
    case 'NOT IN':
      return !(v as (string | number)[]).some((x) => String(x) === String(actual));
    default: {
      const a = typeof v === 'number' ? Number(actual) : String(actual);
      const b = v as string | number;
      switch (clause.op) {
        case '=':
          return a === b;
        case '!=':
          return a !== b;
        case '<':
          return a < b;
        case '<=':
          return a <= b;
        case '>':
          return a > b;
        case '>=':
          return a >= b;
      }
    }
  }
  return false;
}

/** Serialise clauses back into MLflow's grammar (for the HTTP client). */
export function formatSearchFilter(clauses: FilterClause[]): string {
  const prefix: Record<FilterEntity, string> = { metric: 'metrics', param: 'params', tag: 'tags', attribute: 'attributes' };
  const lit = (x: string | number): string => (typeof x === 'number' ? String(x) : `'${x.replace(/'/g, "''")}'`);
  return clauses
    .map((c) => {
      const key = /^[\w]+$/.test(c.key) ? c.key : `\`${c.key}\``;
      const val = Array.isArray(c.value) ? `(${c.value.map(lit).join(', ')})` : lit(c.value);
      return `${prefix[c.entity]}.${key} ${c.op} ${val}`;
    })
    .join(' AND ');
}
