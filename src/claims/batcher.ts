// Claims and validations in batches. Most of what a lone claim costs the database is the
// statement and the transaction around it, not the rules (a pgbench of the claim function:
// ~3.4k claims/s one per transaction, ~11k/s eight per transaction). So claims are sent
// through a few lanes: while every lane is busy, new requests queue, and the next free lane
// takes all that queued (up to `maxSize`) as one call of claim_codes (migration 006). A
// request that finds a lane free goes at once, alone: batching costs no latency when there
// is no load, and batches grow with the load.
//
// A batch (even of one) is one statement in one transaction. If it fails with an error the
// database reported (a deadlock, a lock wait past the batch's lock_timeout, anything else),
// nothing of it was committed, and its elements are run again one by one, outside the lanes,
// with no lock timeout; an element that fails on its own then fails alone. So a lane is never
// held for long by a claim that waits behind another transaction (a cancel, a cap edit):
// claims of other codes and lists go on. An error without a SQLSTATE (the
// connection was lost) is passed to every element: whether the batch committed is unknown.
import type { Pool } from '../db/pool';
import * as sql from './claims.sql';

export type BatchKind = 'claim' | 'validate';

export interface BatchOptions {
  /** Batches in flight at once, each on its own connection. */
  lanes: number;
  /** The most elements one batch takes; 1 turns batching off. */
  maxSize: number;
}

interface Pending {
  code: string;
  customerId: string;
  resolve(result: sql.ClaimResult): void;
  reject(error: unknown): void;
}

/** What the batcher has done since it started; read by /metrics and by tests. */
export interface BatchStats {
  batches: number;
  elements: number;
  largest: number;
  /** Batches that failed and were run again one element at a time. */
  fallbacks: number;
}

const byCode = (a: Pending, b: Pending) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

export class ClaimBatcher {
  readonly stats: BatchStats = { batches: 0, elements: 0, largest: 0, fallbacks: 0 };
  private readonly queues: Record<BatchKind, Pending[]> = { claim: [], validate: [] };
  private running = 0;
  private turn: BatchKind = 'claim';

  constructor(
    private readonly pool: Pool,
    private readonly lockout: sql.LockoutRules,
    private readonly options: BatchOptions,
  ) {}

  /** Runs one claim or validation by the rules of SPEC §5, alone or in a batch. */
  run(kind: BatchKind, code: string, customerId: string): Promise<sql.ClaimResult> {
    return new Promise((resolve, reject) => {
      this.queues[kind].push({ code, customerId, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch() {
    while (this.running < this.options.lanes) {
      const kind = this.nextKind();
      if (!kind) return;
      const batch = this.queues[kind].splice(0, this.options.maxSize);
      this.running++;
      void this.execute(kind, batch).finally(() => {
        this.running--;
        this.dispatch();
      });
    }
  }

  /** Claims and validations take turns when both are waiting. */
  private nextKind(): BatchKind | null {
    const other: BatchKind = this.turn === 'claim' ? 'validate' : 'claim';
    const kind = this.queues[this.turn].length > 0 ? this.turn : this.queues[other].length > 0 ? other : null;
    if (kind) this.turn = kind === 'claim' ? 'validate' : 'claim';
    return kind;
  }

  private async execute(kind: BatchKind, batch: Pending[]) {
    this.stats.batches++;
    this.stats.elements += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    // In code order, so that two batches claiming some of the same codes lock them in the
    // same order and do not deadlock (the sort is stable: one code's claims keep their order).
    const ordered = [...batch].sort(byCode);
    let results: sql.ClaimResult[];
    try {
      results = await sql.runClaims(this.pool, kind, ordered, this.lockout);
    } catch (error) {
      if ((error as { code?: string }).code === undefined) {
        for (const element of ordered) element.reject(error);
        return;
      }
      this.stats.fallbacks++;
      // Not awaited: the lane is free again while these run on their own connections.
      for (const element of ordered) void this.runAlone(kind, element);
      return;
    }
    ordered.forEach((element, i) => element.resolve(results[i]!));
  }

  private async runAlone(kind: BatchKind, element: Pending) {
    try {
      element.resolve(await sql.runClaim(this.pool, kind, element.code, element.customerId, this.lockout));
    } catch (error) {
      element.reject(error);
    }
  }
}
