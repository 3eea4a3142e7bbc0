import { LocalRecError } from '../core/errors';

/** Validates one numeric hyper-parameter; throws INVALID_INPUT naming model and field. */
export function checkParam(
  model: string,
  name: string,
  value: number,
  rule: { integer?: boolean; min?: number; max?: number },
): number {
  const ok =
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) {
    const want = [
      rule.integer ? 'an integer' : 'a number',
      rule.min !== undefined ? `>= ${rule.min}` : '',
      rule.max !== undefined ? `<= ${rule.max}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    throw new LocalRecError('INVALID_INPUT', `${model}: ${name} must be ${want}, got ${value}`, {
      details: { field: `${model}.${name}` },
    });
  }
  return value;
}
