import { describe, expect, it } from 'vitest';
import { hasCode, type LocalRecError } from '../../src/core/errors';
import { forEachCsvRecord, parseInteractionsCsv } from '../../src/eval/csv';

function records(text: string): string[][] {
  const out: string[][] = [];
  forEachCsvRecord(text, (f) => {
    out.push([...f]);
  });
  return out;
}

function errorOf(text: string, cols = {}): LocalRecError {
  try {
    parseInteractionsCsv(text, cols);
  } catch (e) {
    expect(hasCode(e, 'INVALID_INPUT')).toBe(true);
    return e as LocalRecError;
  }
  throw new Error('expected an error');
}

describe('forEachCsvRecord', () => {
  it('reads quoted fields, doubled quotes, commas and newlines inside quotes', () => {
    expect(records('a,"b,c","say ""hi""","multi\nline"\n1,2,3,4')).toEqual([
      ['a', 'b,c', 'say "hi"', 'multi\nline'],
      ['1', '2', '3', '4'],
    ]);
  });

  it('accepts CRLF, a BOM, a missing final newline and blank lines', () => {
    expect(records('\ufeffx,y\r\n1,2\r\n\r\n3,4')).toEqual([
      ['x', 'y'],
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('keeps empty fields', () => {
    expect(records('a,,c\n,,\n')).toEqual([
      ['a', '', 'c'],
      ['', '', ''],
    ]);
  });

  it('reports an unterminated quote with its line', () => {
    let message = '';
    try {
      records('a,b\n1,"oops\n');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('line 2: unterminated quoted field');
  });
});

describe('parseInteractionsCsv', () => {
  it('reads userId,itemId,timestamp in any column order', () => {
    const log = parseInteractionsCsv('timestamp,itemId,userId\r\n10,5,1\r\n11,"6",2\r\n');
    expect(Array.from(log.users)).toEqual([1, 2]);
    expect(Array.from(log.items)).toEqual([5, 6]);
    expect(Array.from(log.times)).toEqual([10, 11]);
    expect(log.columns).toEqual({ user: 'userId', item: 'itemId', time: 'timestamp' });
  });

  it("falls back to MovieLens' movieId", () => {
    const log = parseInteractionsCsv('userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n');
    expect(log.columns.item).toBe('movieId');
    expect(Array.from(log.items)).toEqual([31]);
  });

  it('honours explicit column names', () => {
    const log = parseInteractionsCsv('u,p,t\n1,2,3\n', { user: 'u', item: 'p', time: 't' });
    expect(Array.from(log.items)).toEqual([2]);
  });

  it('maps non-numeric ids to sorted codes and says so', () => {
    const log = parseInteractionsCsv('userId,itemId,timestamp\nbob,9,1\nalice,10,2\nbob,10,3\n');
    expect(Array.from(log.users)).toEqual([1, 0, 1]);
    expect(Array.from(log.items)).toEqual([9, 10, 10]);
    expect(log.mappedIdColumns).toEqual(['userId']);
    expect(log.idLabels.user).toEqual(['alice', 'bob']);
  });

  it('keeps 64-bit ids distinct by mapping them as strings', () => {
    const log = parseInteractionsCsv(
      'userId,itemId,timestamp\n1,12345678901234567890,1\n1,12345678901234567891,2\n',
    );
    expect(new Set(log.items).size).toBe(2);
    expect(log.mappedIdColumns).toEqual(['itemId']);
  });

  it('rejects bad input with one clear line', () => {
    expect(errorOf('').message).toBe('the file is empty');
    expect(errorOf('\n\n').message).toBe('the file is empty');
    expect(errorOf('userId,itemId,timestamp\n').message).toBe(
      'the file has a header but no interactions',
    );
    expect(errorOf('userId,itemId,time\n1,2,3\n').message).toMatch(
      /missing time column 'timestamp'/,
    );
    expect(errorOf('userId,itemId,timestamp\n1,2,3\n', { item: 'sku' }).message).toMatch(
      /missing item column 'sku'/,
    );
    expect(errorOf('userId,itemId,userId,timestamp\n1,2,3,4\n').message).toBe(
      "line 1: duplicate column 'userId' in the header",
    );
    expect(
      errorOf('userId,itemId,timestamp\n1,2,3\nuserId,itemId,timestamp\n1,2,4\n').message,
    ).toBe('line 3: the header is repeated inside the data');
    expect(errorOf('userId,itemId,timestamp\n1,2,yesterday\n').message).toBe(
      "line 2: timestamp 'yesterday' is not a number",
    );
    expect(errorOf('userId,itemId,timestamp\n1,2,\n').message).toBe(
      "line 2: timestamp '' is not a number",
    );
    expect(errorOf('userId,itemId,timestamp\n1,2\n').message).toBe(
      'line 2: expected 3 fields, found 2',
    );
    for (const e of [errorOf(''), errorOf('userId,itemId,timestamp\n1,2,x\n')]) {
      expect(e.message).not.toMatch(/\n/);
    }
  });
});
