/**
 * Runs `check` until it stops throwing, every 100 ms, for at most `timeoutMs`; then throws
 * what it last threw. For assertions on what other processes do in their own time.
 */
export async function eventually(
  check: () => Promise<void> | void,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
