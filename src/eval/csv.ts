/**
 * A small, strict CSV reader for interaction logs (RFC 4180: comma separated, fields may
 * be quoted with `"` and `""` inside quotes, LF or CRLF line ends, optional BOM). Pure
 * string in, typed arrays out, so the CLI and a browser page read logs the same way.
 *
 * Every problem is a `LocalRecError('INVALID_INPUT')` whose message is one line saying
 * what and where (line numbers are 1-based, the header is line 1).
 */
import { LocalRecError } from '../core/errors';
import type { InteractionLog } from './protocol';

function bad(message: string, line?: number): LocalRecError {
  return new LocalRecError(
    'INVALID_INPUT',
    line === undefined ? message : `line ${line}: ${message}`,
    {
      details: line === undefined ? {} : { index: line },
    },
  );
}

/**
 * Calls `onRecord(fields, line)` for every non-empty record, header included. `fields` is
 * reused between calls: copy it to keep it. Return `false` from the callback to stop.
 */
export function forEachCsvRecord(
  text: string,
  onRecord: (fields: string[], line: number) => unknown,
): void {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let line = 1;
  const fields: string[] = [];
  while (pos < n) {
    fields.length = 0;
    const startLine = line;
    // One record.
    for (;;) {
      let value: string;
      if (text.charCodeAt(pos) === 34 /* " */) {
        let out = '';
        let from = pos + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q < 0) throw bad('unterminated quoted field', startLine);
          out += text.slice(from, q);
          if (text.charCodeAt(q + 1) === 34) {
            out += '"';
            from = q + 2;
          } else {
            pos = q + 1;
            break;
          }
        }
        for (let j = 0; j < out.length; j++) if (out.charCodeAt(j) === 10) line++;
        value = out;
        const c = text.charCodeAt(pos);
        if (pos < n && c !== 44 && c !== 10 && c !== 13) {
          throw bad('unexpected character after a closing quote', line);
        }
      } else {
        let end = pos;
        while (end < n) {
          const c = text.charCodeAt(end);
          if (c === 44 || c === 10 || c === 13) break;
          end++;
        }
        value = text.slice(pos, end);
        pos = end;
      }
      fields.push(value);
      const c = text.charCodeAt(pos);
      if (c === 44) {
        pos++;
        continue;
      }
      // End of record: CRLF, LF, lone CR or end of text.
      if (c === 13) pos++;
      if (text.charCodeAt(pos) === 10) pos++;
      break;
    }
    line++;
    const empty = fields.length === 1 && fields[0] === '';
    if (!empty && onRecord(fields, startLine) === false) return;
  }
}

export interface CsvColumns {
  /** User column; default `userId`. */
  user?: string;
  /** Item column; default `itemId`, falling back to MovieLens' `movieId`. */
  item?: string;
  /** Time column; default `timestamp`. */
  time?: string;
}

export interface CsvLog extends InteractionLog {
  users: Float64Array;
  items: Float64Array;
  times: Float64Array;
  /** The header names used for user, item and time. */
  columns: { user: string; item: string; time: string };
  /**
   * Id columns whose values were not all numbers: their distinct strings were mapped to
   * 0..n-1 in sorted order (the protocol's hash needs numbers). Empty for MovieLens.
   */
  mappedIdColumns: string[];
  /** Raw id strings per dense code, for mapped columns only. */
  idLabels: { user?: string[]; item?: string[] };
}

/**
 * An id usable as a number: finite, and not an integer too large for a double to keep
 * distinct (64-bit ids such as 12345678901234567891 would silently merge).
 */
function isNumericId(s: string): boolean {
  if (s.trim() === '') return false;
  const n = Number(s);
  return Number.isFinite(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER;
}

/**
 * Ids are kept as numbers while every value so far is one (no string per row for the
 * common case); the first non-numeric value switches the column to strings.
 */
class IdColumn {
  numbers: number[] = [];
  strings: string[] | undefined;

  push(v: string): void {
    if (!this.strings) {
      if (isNumericId(v)) {
        this.numbers.push(Number(v));
        return;
      }
      this.strings = this.numbers.map(String);
      this.numbers = [];
    }
    this.strings.push(v);
  }
}

/** Parse an interaction log from CSV text (see `CsvColumns` for column names). */
export function parseInteractionsCsv(text: string, columns: CsvColumns = {}): CsvLog {
  let header: string[] | undefined;
  let ui = -1;
  let ii = -1;
  let ti = -1;
  const userCol = new IdColumn();
  const itemCol = new IdColumn();
  const times: number[] = [];
  let names = { user: '', item: '', time: '' };
  forEachCsvRecord(text, (fields, line) => {
    if (!header) {
      header = fields.map((f) => f.trim());
      const seen = new Set<string>();
      for (const h of header) {
        if (seen.has(h)) throw bad(`duplicate column '${h}' in the header`, line);
        seen.add(h);
      }
      const find = (want: string | undefined, fallbacks: string[], role: string): number => {
        const options = want === undefined ? fallbacks : [want];
        for (const name of options) {
          const at = (header as string[]).indexOf(name);
          if (at >= 0) return at;
        }
        throw bad(
          `missing ${role} column ${options.map((o) => `'${o}'`).join(' or ')} (header: ${(header as string[]).join(',')})`,
        );
      };
      ui = find(columns.user, ['userId'], 'user');
      ii = find(columns.item, ['itemId', 'movieId'], 'item');
      ti = find(columns.time, ['timestamp'], 'time');
      names = { user: header[ui], item: header[ii], time: header[ti] };
      return;
    }
    if (fields.length !== header.length) {
      throw bad(`expected ${header.length} fields, found ${fields.length}`, line);
    }
    const u = fields[ui].trim();
    const i = fields[ii].trim();
    const t = fields[ti].trim();
    if (u === names.user && i === names.item && t === names.time) {
      throw bad('the header is repeated inside the data', line);
    }
    if (u === '') throw bad(`empty ${names.user}`, line);
    if (i === '') throw bad(`empty ${names.item}`, line);
    const tv = t === '' ? Number.NaN : Number(t);
    if (!Number.isFinite(tv)) throw bad(`${names.time} '${t}' is not a number`, line);
    userCol.push(u);
    itemCol.push(i);
    times.push(tv);
    return;
  });
  if (!header) throw bad('the file is empty');
  if (times.length === 0) throw bad('the file has a header but no interactions');
  const mappedIdColumns: string[] = [];
  const idLabels: CsvLog['idLabels'] = {};
  const encode = (col: IdColumn, column: string, role: 'user' | 'item'): Float64Array => {
    if (!col.strings) return Float64Array.from(col.numbers);
    mappedIdColumns.push(column);
    const labels = [...new Set(col.strings)].sort();
    const code = new Map(labels.map((v, j) => [v, j]));
    idLabels[role] = labels;
    return Float64Array.from(col.strings, (v) => code.get(v) as number);
  };
  return {
    users: encode(userCol, names.user, 'user'),
    items: encode(itemCol, names.item, 'item'),
    times: Float64Array.from(times),
    columns: names,
    mappedIdColumns,
    idLabels,
  };
}
