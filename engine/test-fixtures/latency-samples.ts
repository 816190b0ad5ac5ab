/** Latency samples in milliseconds, kept in a growable Float64Array (no per-sample allocation). */
export class LatencySamples {
  #samples = new Float64Array(1 << 16);
  #count = 0;

  record(ms: number): void {
    if (this.#count === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  clear(): void {
    this.#count = 0;
  }

  /** Mean and percentiles (nearest rank) of what was recorded; NaN when nothing was. */
  summary(): { count: number; mean: number; p50: number; p99: number; max: number } {
    const sorted = this.#samples.slice(0, this.#count).sort();
    let sum = 0;
    for (let index = 0; index < sorted.length; index++) sum += sorted[index];
    const rank = (fraction: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
    return { count: sorted.length, mean: sum / sorted.length, p50: rank(0.5), p99: rank(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
  }
}
