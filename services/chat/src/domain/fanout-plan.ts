/**
 * The pure part of group fan-out: who still needs a message, and which
 * handler publishes carry whom.
 */

/** Members other than the sender that no earlier attempt has handled, in member order. */
export function recipientsToDo(
  members: readonly string[],
  sender: string,
  done: ReadonlySet<string>,
): string[] {
  return members.filter((member) => member !== sender && !done.has(member));
}

/**
 * One batch per destination handler with every user it holds, handlers in
 * order of first appearance, users in the given order. A user on two handlers
 * (two devices) is in both batches; a user on none is in none (its pending
 * row is how it gets the message).
 */
export function batchByHandler(
  users: readonly string[],
  handlersOf: ReadonlyMap<string, readonly string[]>,
): Map<string, string[]> {
  const batches = new Map<string, string[]>();
  for (const user of users) {
    for (const handler of new Set(handlersOf.get(user) ?? [])) {
      let batch = batches.get(handler);
      if (!batch) batches.set(handler, (batch = []));
      batch.push(user);
    }
  }
  return batches;
}

/** Runs fn over items with at most `limit` running at once; rejects on the first failure. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
