import { describe, expect, it } from 'vitest';
import { intFlag, parseFlags, usageLines } from '../../cli/args';
import { CliError } from '../../cli/io';

const specs = {
  data: { help: 'the data' },
  k: { help: 'cut-off' },
  json: { boolean: true, help: 'JSON out' },
};
const parse = (args: string[]) => {
  const r = parseFlags('cmd', args, specs);
  return { values: r.values, booleans: [...r.booleans], positionals: r.positionals };
};
const refused = (args: string[]) => {
  try {
    parseFlags('cmd', args, specs);
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(args)}`);
};

describe('parseFlags', () => {
  it('reads --name value, --name=value, boolean --name and positionals', () => {
    expect(parse(['train', '--data', 'x.csv', '--k=3', '--json', 'more'])).toEqual({
      values: { data: 'x.csv', k: '3' },
      booleans: ['json'],
      positionals: ['train', 'more'],
    });
    expect(parse(['--data=a=b']).values).toEqual({ data: 'a=b' });
    expect(parse(['--json', '--json']).booleans).toEqual(['json']);
  });

  it('takes a value that starts with a single dash, and single-dash arguments as positionals', () => {
    expect(parse(['--k', '-5']).values).toEqual({ k: '-5' });
    expect(parse(['--data', '-']).values).toEqual({ data: '-' });
    expect(parse(['-x', '-abc', '-', 'train']).positionals).toEqual(['-x', '-abc', '-', 'train']);
  });

  it('keeps everything after a bare -- as positionals', () => {
    expect(parse(['train', '--', '--json'])).toEqual({
      values: {},
      booleans: [],
      positionals: ['train', '--', '--json'],
    });
  });

  it('refuses unknown flags, naming the command', () => {
    expect(refused(['--bogus'])).toBe('cmd: unknown option --bogus (see --help)');
    expect(refused(['--bogus=1'])).toBe('cmd: unknown option --bogus (see --help)');
    expect(refused(['--JSON'])).toBe('cmd: unknown option --JSON (see --help)');
    expect(refused(['--toString=1'])).toBe('cmd: unknown option --toString (see --help)');
    expect(refused(['--constructor'])).toBe('cmd: unknown option --constructor (see --help)');
  });

  it('refuses a value for a boolean flag', () => {
    expect(refused(['--json=1'])).toBe('cmd: --json takes no value');
  });

  it('refuses a missing or empty value', () => {
    expect(refused(['--data'])).toBe('cmd: --data needs a value');
    expect(refused(['--data='])).toBe('cmd: --data needs a value');
    expect(refused(['--data', ''])).toBe('cmd: --data needs a value');
    expect(refused(['--data', '--json'])).toBe('cmd: --data needs a value');
    expect(refused(['--k', '--'])).toBe('cmd: --k needs a value');
  });

  it('refuses a value flag given twice', () => {
    expect(refused(['--data', 'a', '--data', 'b'])).toBe('cmd: --data given twice');
    expect(refused(['--data=a', '--data=b'])).toBe('cmd: --data given twice');
  });
});

describe('intFlag and usageLines', () => {
  it('parses integers with a lower bound, and falls back when absent', () => {
    expect(intFlag('cmd', 'k', undefined, 5)).toBe(5);
    expect(intFlag('cmd', 'k', '7', 5)).toBe(7);
    expect(intFlag('cmd', 'k', '0', 5, 0)).toBe(0);
    expect(() => intFlag('cmd', 'k', '0', 5)).toThrow("cmd: --k must be an integer >= 1, got '0'");
    expect(() => intFlag('cmd', 'k', '2.5', 5)).toThrow(
      "cmd: --k must be an integer >= 1, got '2.5'",
    );
  });

  it('lists every flag with its help', () => {
    const text = usageLines(specs);
    expect(text.split('\n')).toEqual([
      `${'  --data VALUE'.padEnd(26)}the data`,
      `${'  --k VALUE'.padEnd(26)}cut-off`,
      `${'  --json'.padEnd(26)}JSON out`,
    ]);
  });
});
