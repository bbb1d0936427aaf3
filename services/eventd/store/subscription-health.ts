// What went wrong evaluating subscriptions on this node: a subscription's
// fault (it ran out of budget and is no longer evaluated) and each
// resource's runtime errors. Written in the evaluator's batch transaction.
import type { Db } from './db.js';
import type { ThresholdKey } from './threshold-states.js';

/** Why a subscription's status is `error` on this node. */
export interface SubscriptionFault {
  subscription: string;
  /** expr, rearm or where */
  field: string;
  code: string;
  message: string;
  node: string;
  resource: string;
  at: number;
  /** The `error` event it raised. */
  event?: string;
}

/** One resource's runtime errors under one subscription. */
export interface ResourceErrors {
  key: ThresholdKey;
  errors: number;
  /** The latest evaluation failed (false once it evaluates again). */
  failing: boolean;
  lastError: { field: string; code?: string; message: string; position?: number; at: number };
}

interface FaultRow { subscription: string; field: string; code: string; message: string; node: string; resource: string; at: number; event: string | null }
interface ErrorRow { subscription: string; node: string; resource: string; errors: number; failing: number; field: string; code: string | null; message: string; position: number | null; at: number }

export class SubscriptionHealthStore {
  private readonly saveFaultStmt;
  private readonly clearFaultStmt;
  private readonly faultsStmt;
  private readonly saveErrorsStmt;
  private readonly errorsStmt;
  private readonly clearErrorsStmt;

  constructor(db: Db) {
    this.saveFaultStmt = db.prepare(
      `INSERT OR REPLACE INTO subscription_faults (subscription, field, code, message, node, resource, at, event)
       VALUES (@subscription, @field, @code, @message, @node, @resource, @at, @event)`,
    );
    this.clearFaultStmt = db.prepare('DELETE FROM subscription_faults WHERE subscription = ?');
    this.faultsStmt = db.prepare('SELECT * FROM subscription_faults');
    this.saveErrorsStmt = db.prepare(
      `INSERT OR REPLACE INTO evaluation_errors (subscription, node, resource, errors, failing, field, code, message, position, at)
       VALUES (@subscription, @node, @resource, @errors, @failing, @field, @code, @message, @position, @at)`,
    );
    this.errorsStmt = db.prepare('SELECT * FROM evaluation_errors');
    this.clearErrorsStmt = db.prepare('DELETE FROM evaluation_errors WHERE subscription = ?');
  }

  saveFault(fault: SubscriptionFault): void {
    this.saveFaultStmt.run({ ...fault, event: fault.event ?? null });
  }

  /** The fault and the resource errors go with the subscription (deleted, or changed by the user). */
  clear(subscription: string): void {
    this.clearFaultStmt.run(subscription);
    this.clearErrorsStmt.run(subscription);
  }

  faults(): SubscriptionFault[] {
    return (this.faultsStmt.all() as FaultRow[]).map(({ event, ...row }) => ({ ...row, ...(event === null ? {} : { event }) }));
  }

  saveErrors(entry: ResourceErrors): void {
    const { key, lastError } = entry;
    this.saveErrorsStmt.run({
      ...key,
      errors: entry.errors,
      failing: entry.failing ? 1 : 0,
      field: lastError.field,
      code: lastError.code ?? null,
      message: lastError.message,
      position: lastError.position ?? null,
      at: lastError.at,
    });
  }

  errors(): ResourceErrors[] {
    return (this.errorsStmt.all() as ErrorRow[]).map((row) => ({
      key: { subscription: row.subscription, node: row.node, resource: row.resource },
      errors: row.errors,
      failing: row.failing === 1,
      lastError: {
        field: row.field,
        message: row.message,
        at: row.at,
        ...(row.code === null ? {} : { code: row.code }),
        ...(row.position === null ? {} : { position: row.position }),
      },
    }));
  }
}
