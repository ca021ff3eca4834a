/**
 * A number written into a statement's text, rounded to a whole number, rather than sent as a parameter, so that
 * its plan can use the value (ADR 0035: under generic plans a parameter's value is unknown to the planner). Only
 * finite non-negative numbers are accepted: nothing else can reach the text.
 */
export function integerLiteral(value: number, what: string): string {
  const whole = Math.round(value);
  if (!Number.isSafeInteger(whole) || whole < 0) {
    throw new RangeError(`${what} must be a non-negative number below 2^53, got ${value}`);
  }
  return String(whole);
}
