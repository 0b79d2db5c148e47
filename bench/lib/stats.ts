/** Nearest-rank percentile of an unsorted sample. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(samples: number[]): number {
  return percentile(samples, 50);
}

export function ms(value: number, digits = 2): string {
  return value.toFixed(digits);
}

export function ratio(ours: number, baseline: number): string {
  return (ours / baseline).toFixed(2);
}

/** High-resolution wall time of one call, in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/**
 * Times each of `runs` `iterations` times in interleaved rounds, rotating which goes first
 * so none always runs right after another warmed the same pages. A slow plan (seconds per
 * query) stops at `budgetMs` instead of the round count, after at least `minRounds`.
 */
export async function interleavedSamples<N extends string>(
  runs: Record<N, () => Promise<unknown>>,
  names: readonly N[],
  options: { warmup: number; iterations: number; minRounds: number; budgetMs: number; warmupBudgetMs?: number },
): Promise<Record<N, number[]>> {
  const warmupDeadline = Date.now() + (options.warmupBudgetMs ?? Number.POSITIVE_INFINITY);
  for (let i = 0; i < options.warmup && Date.now() < warmupDeadline; i++) for (const name of names) await runs[name]();
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<N, number[]>;
  const deadline = Date.now() + options.budgetMs;
  for (let i = 0; i < options.iterations && (i < options.minRounds || Date.now() < deadline); i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      samples[name].push((await timed(runs[name])).ms);
    }
  }
  return samples;
}
