/** The longest code whose space fits safely in a double and in the bijection's 52-bit halves. */
export const MAX_CODE_LENGTH = 8;

export interface CodeLengthPlan {
  length: number;
  /** Codes needed over the retention period: writes per second times its seconds. */
  needed: number;
  /** 62 to the power of the length. */
  capacity: number;
  explanation: string;
}

/** The shortest length with writes/s × retention seconds < 62^length. */
export function planCodeLength(writesPerSecond: number, retentionSeconds: number): CodeLengthPlan {
  if (!(writesPerSecond > 0) || !(retentionSeconds > 0)) {
    throw new RangeError('write rate and retention must be positive');
  }
  const needed = writesPerSecond * retentionSeconds;
  let length = 1;
  while (62 ** length <= needed) length += 1;
  if (length > MAX_CODE_LENGTH) {
    throw new RangeError(
      `${needed.toExponential(2)} codes need ${length} characters; ` +
        `at most ${MAX_CODE_LENGTH} are supported`,
    );
  }
  const capacity = 62 ** length;
  const explanation =
    `code length ${length}: ${writesPerSecond} writes/s × ${retentionSeconds} s = ` +
    `${needed.toExponential(2)} codes < 62^${length} = ${capacity.toExponential(2)}` +
    (length > 1 ? ` (62^${length - 1} = ${(62 ** (length - 1)).toExponential(2)} is too few)` : '');
  return { length, needed, capacity, explanation };
}
