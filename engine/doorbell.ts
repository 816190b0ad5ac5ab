import { DOORBELL_BYTES, DOORBELL_SEQUENCE, DOORBELL_SLEEPING } from './layout.js';

/**
 * Wake-up word for one consumer of one or more rings (layout in `layout.ts`).
 *
 * Lost wake-ups are impossible: the consumer reads `SEQUENCE`, marks itself sleeping, checks
 * its rings once more and only then waits for `SEQUENCE` to move from the value it read. A
 * producer publishes, bumps `SEQUENCE`, then notifies if the consumer is sleeping; whichever of
 * the two runs second sees the other's write (all of them are sequentially consistent atomics).
 */
export class Doorbell {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;

  static create(): Doorbell {
    return new Doorbell(new SharedArrayBuffer(DOORBELL_BYTES));
  }

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.words = new Int32Array(buffer);
  }

  /** Producer side: called after publishing records. Costs a syscall only if the consumer sleeps. */
  ring(): void {
    Atomics.add(this.words, DOORBELL_SEQUENCE, 1);
    if (Atomics.load(this.words, DOORBELL_SLEEPING) !== 0) {
      Atomics.notify(this.words, DOORBELL_SEQUENCE);
    }
  }

  /** Consumer side, step 1: the sequence value to wait on. */
  prepareToSleep(): number {
    const sequence = Atomics.load(this.words, DOORBELL_SEQUENCE);
    Atomics.store(this.words, DOORBELL_SLEEPING, 1);
    return sequence;
  }

  /** Consumer side, step 2 (after re-checking its rings): resolves when rung. */
  sleepAsync(sequence: number): Promise<unknown> | null {
    const wait = Atomics.waitAsync(this.words, DOORBELL_SEQUENCE, sequence);
    return wait.async ? wait.value : null;
  }

  /** Blocking variant for a thread with nothing else to do; `timeoutMs` bounds it. */
  sleep(sequence: number, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out' {
    return Atomics.wait(this.words, DOORBELL_SEQUENCE, sequence, timeoutMs);
  }

  /** Producer side: true while the consumer is not parked (ringing it then costs no wake-up). */
  isAwake(): boolean {
    return Atomics.load(this.words, DOORBELL_SLEEPING) === 0;
  }

  awake(): void {
    Atomics.store(this.words, DOORBELL_SLEEPING, 0);
  }
}
