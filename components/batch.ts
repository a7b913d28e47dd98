/**
 * A trailing batcher: the first `push` in a quiet period starts a timer of `waitMs`; every key
 * pushed until it fires is collected, and `run` is called once with all of them. A burst of N
 * lane events therefore costs one refetch per window instead of N.
 */
export interface Batcher<K> {
  push(key: K): void;
  /** Run now with whatever is pending (no-op when nothing is). */
  flush(): void;
  /** Drop pending keys and stop the timer. */
  cancel(): void;
}

/** @param waitMs window length in milliseconds (0 still batches everything pushed in one task). */
export function createBatcher<K>(run: (keys: Set<K>) => void, waitMs: number): Batcher<K> {
  let pending = new Set<K>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (pending.size === 0) return;
    const keys = pending;
    pending = new Set();
    run(keys);
  };
  return {
    push(key) {
      pending.add(key);
      timer ??= setTimeout(flush, waitMs);
    },
    flush,
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      pending = new Set();
    },
  };
}
