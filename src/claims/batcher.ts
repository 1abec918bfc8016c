// Claims and validations in batches. Most of what a lone claim costs the database is the
// statement and the transaction around it, not the rules (a pgbench of the claim function:
// ~3.4k claims/s one per transaction, ~11k/s eight per transaction). So claims are sent
// through a few lanes: while every lane is busy, new requests queue, and the next free lane
// takes all that queued (up to `maxSize`) as one call of claim_codes (claims.functions.sql). A
// request that finds a lane free goes at once, alone: batching costs no latency when there
// is no load, and batches grow with the load. Each lane starts its claims at a counter slot
// of its own, so lanes never wait on each other's slot.
//
// A batch (even of one) is one statement in one transaction. When the database answers it
// with an error (a deadlock, a lock wait past the batch's lock_timeout, a batch running too
// long, an element that fails), the transaction was rolled back and nothing of it stays; its
// elements are then run again one by one, outside the lanes, with no lock timeout, and an
// element that fails on its own fails alone. So a lane is never held for long by a claim
// that waits behind another transaction (a cancel, a cap edit): claims of other codes and
// lists go on. When the batch may have committed — the connection was lost, the server shut
// down — every element gets the error, as a lone claim would; running them again could
// claim twice.
import pg from 'pg';
import type { Pool } from '../db/pool';
import * as sql from './claims.sql';
import { COUNTER_SLOTS, laneSlot } from '../lists/counters';

export type BatchKind = 'claim' | 'validate';

export interface BatchOptions {
  /** Batches in flight at once, each on its own connection (at most 32, one per counter slot). */
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
  /** Batches that failed and were run again one element at a time. */
  fallbacks: number;
}

/**
 * Whether a failed batch can be run again element by element: the database reported an
 * error for the statement, so its transaction was rolled back. Not so for a lost connection
 * or a server going away (SQLSTATE classes 08, 57P, 58, XX, or no SQLSTATE at all): the
 * batch may have committed.
 */
export function rolledBack(error: unknown): boolean {
  return error instanceof pg.DatabaseError && typeof error.code === 'string' && !/^(08|57P|58|XX)/.test(error.code);
}

/** In code order, then customer: two batches touching the same codes lock them in the same order. */
const byCodeThenCustomer = (a: Pending, b: Pending) =>
  a.code < b.code ? -1 : a.code > b.code ? 1 : a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0;

export class ClaimBatcher {
  readonly stats: BatchStats = { batches: 0, elements: 0, fallbacks: 0 };
  private readonly queues: Record<BatchKind, Pending[]> = { claim: [], validate: [] };
  /** Lanes not running a batch, by number; lane n starts its claims at its own counter slot. */
  private readonly freeLanes: number[];
  private readonly lanes: number;
  private turn: BatchKind = 'claim';

  constructor(
    private readonly pool: Pool,
    private readonly lockout: sql.LockoutRules,
    private readonly options: BatchOptions,
  ) {
    this.lanes = Math.min(Math.max(1, options.lanes), COUNTER_SLOTS);
    this.freeLanes = Array.from({ length: this.lanes }, (_, lane) => lane);
  }

  /** Runs one claim or validation by the rules of docs/product.md, alone or in a batch. */
  run(kind: BatchKind, code: string, customerId: string): Promise<sql.ClaimResult> {
    return new Promise((resolve, reject) => {
      this.queues[kind].push({ code, customerId, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch() {
    while (this.freeLanes.length > 0) {
      const kind = this.nextKind();
      if (!kind) return;
      const lane = this.freeLanes.pop()!;
      const batch = this.queues[kind].splice(0, this.options.maxSize);
      void this.execute(kind, batch, lane).finally(() => {
        this.freeLanes.push(lane);
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

  /** Never rejects: every element is settled, here or by its own run. */
  private async execute(kind: BatchKind, batch: Pending[], lane: number) {
    this.stats.batches++;
    this.stats.elements += batch.length;
    const ordered = batch.sort(byCodeThenCustomer);
    const slot = laneSlot(lane, this.lanes);
    let results: sql.ClaimResult[];
    try {
      results = await sql.runClaims(this.pool, kind, ordered, this.lockout, slot);
      if (!Array.isArray(results) || results.length !== ordered.length)
        throw new Error(`claim batch of ${ordered.length} answered ${JSON.stringify(results)?.slice(0, 200)}`);
    } catch (error) {
      if (!rolledBack(error)) {
        for (const element of ordered) element.reject(error);
        return;
      }
      this.stats.fallbacks++;
      // Not awaited: the lane is free again while these run on their own connections.
      for (const element of ordered) void this.runAlone(kind, element);
      return;
    }
    for (const [i, element] of ordered.entries()) element.resolve(results[i]!);
  }

  private async runAlone(kind: BatchKind, element: Pending) {
    try {
      element.resolve(await sql.runClaim(this.pool, kind, element.code, element.customerId, this.lockout));
    } catch (error) {
      element.reject(error);
    }
  }
}
