/**
 * The caller's side of the helper threads (threads.ts runs the other): which helpers are running,
 * handing a product's row blocks to them, and waiting until they are done. A request goes in two
 * steps — `call` wakes the helpers before the operands are copied in, so their wake-up overlaps the
 * copies, and `release` lets them start — and every thread, the caller included, then draws row
 * blocks from one shared counter (`takeRows`), so a helper that starts late or runs slow takes
 * fewer. A helper whose worker has not started yet (or never does) is left out, so it cannot stall
 * a product. The caller waits with Atomics.wait where the thread may block (Node, workers) and by
 * spinning where it may not (a browser's main thread).
 */
import {
  type OptimizerRequest,
  type RowsRequest,
  Word,
  writeOptimizerRequest,
  writeRequest,
} from './control.js';

let blocking: boolean | null = null;
/** Whether this thread may block in Atomics.wait (false on a browser's main thread). */
function canBlock(): boolean {
  if (blocking === null) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // value differs: returns at once
      blocking = true;
    } catch {
      blocking = false;
    }
  }
  return blocking;
}

/** One product in flight on the helpers: who took part, under which sequence numbers. */
export interface Dispatch {
  readonly helpers: readonly Int32Array[];
  readonly seqs: readonly number[];
}

/** The helper threads of one kernel instance. */
export class HelperPool {
  private running: Int32Array[] = [];
  private counterView: Int32Array | null = null;

  /** @param helpers the helpers' control blocks (control.ts), all in one SharedArrayBuffer. */
  constructor(private readonly helpers: readonly Int32Array[]) {}

  /** Threads a large product may use: the helpers and the caller. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Helpers whose worker is running (they may still be starting just after load). */
  ready(): Int32Array[] {
    if (this.running.length < this.helpers.length)
      this.running = this.helpers.filter((c) => Atomics.load(c, Word.running) === 1);
    return this.running;
  }

  /** Row blocks computed by helper threads so far (for tests and benchmarks). */
  get blocksDone(): number {
    return this.helpers.reduce((s, c) => s + Atomics.load(c, Word.blocksDone), 0);
  }

  /** The shared row counter (word 0 of the buffer the control blocks live in). */
  private get counter(): Int32Array {
    if (!this.counterView) this.counterView = new Int32Array(this.helpers[0].buffer, 0, 1);
    return this.counterView;
  }

  /**
   * Wakes `helpers` for `req`, resetting the row counter; helper h computes in its own scratch at
   * `work(h)`. They wait for `release` before touching the operands.
   */
  call(helpers: readonly Int32Array[], req: RowsRequest, work: (h: number) => number): Dispatch {
    return this.wake(helpers, (ctrl, h) => writeRequest(ctrl, req, work(h)), false);
  }

  /**
   * Wakes `helpers` for an optimizer step, resetting the counter; its operands are in place, so they
   * start at once. The caller draws element blocks with `takeRows` too, then `join`s.
   */
  callOptimizer(helpers: readonly Int32Array[], req: OptimizerRequest): Dispatch {
    return this.wake(helpers, (ctrl) => writeOptimizerRequest(ctrl, req), true);
  }

  /** Resets the counter, writes each helper's request and wakes it (`ready`: it may start at once). */
  private wake(
    helpers: readonly Int32Array[],
    write: (ctrl: Int32Array, h: number) => void,
    ready: boolean,
  ): Dispatch {
    Atomics.store(this.counter, 0, 0);
    const seqs: number[] = [];
    for (let h = 0; h < helpers.length; h++) {
      const ctrl = helpers[h];
      const seq = Atomics.load(ctrl, Word.request) + 1;
      write(ctrl, h);
      Atomics.store(ctrl, Word.ready, ready ? seq : 0);
      Atomics.store(ctrl, Word.request, seq);
      Atomics.notify(ctrl, Word.request);
      seqs.push(seq);
    }
    return { helpers, seqs };
  }

  /** Tells the helpers of `d` that the operands are in place. */
  release(d: Dispatch): void {
    for (let h = 0; h < d.seqs.length; h++) Atomics.store(d.helpers[h], Word.ready, d.seqs[h]);
  }

  /** The first row of the next block of `block` rows, for the caller's share of the work. */
  takeRows(block: number): number {
    return Atomics.add(this.counter, 0, block);
  }

  /** Waits until every helper of `d` finished its last block. */
  join(d: Dispatch): void {
    for (let h = 0; h < d.seqs.length; h++) {
      const ctrl = d.helpers[h];
      const seq = d.seqs[h];
      // Helpers finish their last block about when the caller does: spin first, then sleep.
      for (let i = 0; i < 20000 && Atomics.load(ctrl, Word.done) !== seq; i++);
      if (canBlock())
        while (Atomics.load(ctrl, Word.done) !== seq) Atomics.wait(ctrl, Word.done, seq - 1, 10);
      else while (Atomics.load(ctrl, Word.done) !== seq);
    }
  }
}
