/**
 * Jobs waiting out a retry's backoff: a binary min-heap of (due time, slot, job id) in plain
 * arrays, and one timer for the earliest due time, however many jobs wait (a timer per job
 * would cost a timer object and a timer-list entry each, and a cancel would have to find it).
 * An entry whose slot no longer holds its job (cancelled meanwhile) is skipped when it comes
 * due; the caller tells from the job id.
 */
export class DelayedStarts {
  readonly #due: number[] = [];
  readonly #slots: number[] = [];
  readonly #jobIds: number[] = [];
  readonly #onDue: (slot: number, jobId: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #timerDueMs = Infinity;

  /** `onDue` is called for every entry whose time came, earliest first. */
  constructor(onDue: (slot: number, jobId: number) => void) {
    this.#onDue = onDue;
  }

  get size(): number {
    return this.#due.length;
  }

  add(slot: number, jobId: number, dueMs: number): void {
    let index = this.#due.length;
    this.#due.push(dueMs);
    this.#slots.push(slot);
    this.#jobIds.push(jobId);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.#due[parent] <= dueMs) break;
      this.#swap(index, parent);
      index = parent;
    }
    this.#arm();
  }

  /** Stops the timer (at shutdown); entries stay, and nothing comes due any more. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueMs = -Infinity;
  }

  /** Hands every entry due by now to `onDue`, then arms the timer for the next. */
  runDue(nowMs = Date.now()): void {
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
    while (this.#due.length > 0 && this.#due[0] <= nowMs) {
      const slot = this.#slots[0];
      const jobId = this.#jobIds[0];
      this.#removeTop();
      this.#onDue(slot, jobId);
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#due.length === 0) return;
    const next = this.#due[0];
    if (next >= this.#timerDueMs) return;
    clearTimeout(this.#timer);
    this.#timerDueMs = next;
    this.#timer = setTimeout(runDue, Math.max(0, next - Date.now()), this).unref();
  }

  #removeTop(): void {
    const last = this.#due.length - 1;
    this.#swap(0, last);
    this.#due.pop();
    this.#slots.pop();
    this.#jobIds.pop();
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < this.#due.length && this.#due[left] < this.#due[smallest]) smallest = left;
      if (right < this.#due.length && this.#due[right] < this.#due[smallest]) smallest = right;
      if (smallest === index) return;
      this.#swap(index, smallest);
      index = smallest;
    }
  }

  #swap(a: number, b: number): void {
    [this.#due[a], this.#due[b]] = [this.#due[b], this.#due[a]];
    [this.#slots[a], this.#slots[b]] = [this.#slots[b], this.#slots[a]];
    [this.#jobIds[a], this.#jobIds[b]] = [this.#jobIds[b], this.#jobIds[a]];
  }
}

function runDue(starts: DelayedStarts): void {
  starts.runDue();
}
