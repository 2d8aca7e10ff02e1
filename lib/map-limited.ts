/**
 * Runs `task` over `items` with at most `limit` running at once, and returns the results in the items' order.
 * `onResult`, when given, receives each result in that order as soon as it and every earlier one are done, so
 * a fleet's report streams in order while later services are still running.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>, onResult?: (result: R, item: T) => void): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const done: boolean[] = new Array(items.length).fill(false);
  let next = 0;
  let delivered = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
      done[i] = true;
      while (delivered < items.length && done[delivered]) {
        onResult?.(results[delivered]!, items[delivered]!);
        delivered++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
