import { Injectable } from '@nestjs/common';
import { ExportItemView, ExportQueueRepository, objectKey, RunObjectErrorInput, StagedObject, Transaction } from '@identitymesh/persistence';
import { ImportExtension, ImportRunner } from '../import/import-runner.service';
import { ProfileRunner, RunContext, RunOutcome } from '../runs/run-context';
import { judgeExports } from './export-changes';

/** Exports of objects a run did not see, judged a page at a time in the completion transaction. */
const UNSEEN_PAGE = 1_000;

/**
 * Confirming imports: a full import (the import runner's, batch by batch,
 * with its staging, watermark and deletes) that also judges the
 * connector's succeeded exports no confirming import judged yet. In each
 * batch's transaction, an export of an object the batch read is confirmed
 * when the object holds what the export wrote; at the end of the read,
 * exports of objects the system no longer showed are not confirmed either.
 * An export that did not arrive is flagged: its queue item becomes
 * `not-confirmed` and the run records a per-object error
 * `EXPORT_NOT_CONFIRMED` saying what differs.
 *
 * It is a full import because only a complete read can tell that an export
 * never showed up; a delta says nothing about the objects it does not bring.
 * Nothing is queued again from here: the import has staged what the system
 * really holds, so the next sync sees the difference and exports again what
 * the rules still want — a value the system itself changed after the export
 * may be the one its precedence keeps.
 */
@Injectable()
export class ConfirmingImportRunner implements ProfileRunner {
  private readonly extension: ImportExtension;

  constructor(
    private readonly imports: ImportRunner,
    private readonly queue: ExportQueueRepository,
  ) {
    this.extension = {
      name: 'confirming import',
      mode: 'full',
      afterBatch: (tx, _context, batch) => this.judgeRead(tx, batch.prepared.upserts, batch.staged.existingIds, batch.plan.references, batch.now),
      afterComplete: (tx, context, now) => this.judgeUnseen(tx, context, now),
    };
  }

  run(context: RunContext): Promise<RunOutcome> {
    if (context.run.profile !== 'confirming-import') throw new Error(`the confirming import runner does not run ${context.run.profile}`);
    return this.imports.run(context, this.extension);
  }

  private async judgeRead(
    tx: Transaction,
    upserts: readonly StagedObject[],
    existingIds: ReadonlyMap<string, string>,
    references: ReadonlyMap<string, ReadonlyMap<string, 'dn' | 'anchor'>>,
    now: Date,
  ): Promise<RunObjectErrorInput[]> {
    // Objects staged for the first time by this batch cannot have been exported.
    const read = new Map<string, StagedObject>();
    for (const object of upserts) {
      const id = existingIds.get(objectKey(object.objectType, object.anchor));
      if (id) read.set(id, object);
    }
    if (read.size === 0) return [];
    const waiting = await this.queue.awaitingConfirmation(tx, [...read.keys()]);
    if (waiting.length === 0) return [];
    const confirmed: string[] = [];
    const errors: RunObjectErrorInput[] = [];
    const notConfirmed: string[] = [];
    for (const [csObjectId, items] of groupByObject(waiting)) {
      const object = read.get(csObjectId) as StagedObject;
      for (const verdict of judgeExports(items, object, references.get(object.objectType) ?? new Map())) {
        if (verdict.differences.length === 0) confirmed.push(verdict.item.id);
        else {
          notConfirmed.push(verdict.item.id);
          errors.push(notConfirmedError(verdict.item, object.objectType, object.anchor, verdict.differences.join('; ')));
        }
      }
    }
    await this.queue.recordConfirmations(tx, { confirmed, notConfirmed }, now);
    return errors;
  }

  private async judgeUnseen(tx: Transaction, context: RunContext, now: Date): Promise<RunObjectErrorInput[]> {
    const errors: RunObjectErrorInput[] = [];
    let afterId: string | undefined;
    for (;;) {
      const page = await this.queue.awaitingConfirmationUnseen(tx, context.connector.id, context.run.id, { afterId, limit: UNSEEN_PAGE });
      if (page.length === 0) return errors;
      await this.queue.recordConfirmations(tx, { confirmed: [], notConfirmed: page.map((item) => item.id) }, now);
      for (const item of page) errors.push(notConfirmedError(item, item.change.objectType, item.change.anchor, 'the system no longer shows the object'));
      afterId = page.at(-1)?.id;
      if (page.length < UNSEEN_PAGE) return errors;
    }
  }
}

function notConfirmedError(item: ExportItemView, objectType: string, anchor: string | undefined, why: string): RunObjectErrorInput {
  return {
    code: 'EXPORT_NOT_CONFIRMED',
    message: `the ${item.operation} exported as ${item.id} did not arrive: ${why}. The import staged what the system holds; the next sync exports again what the rules still want`,
    objectType,
    anchor,
    position: `export ${item.id}`,
    csObjectId: item.csObjectId,
  };
}

function groupByObject(items: readonly ExportItemView[]): Map<string, ExportItemView[]> {
  const groups = new Map<string, ExportItemView[]>();
  for (const item of items) groups.set(item.csObjectId, [...(groups.get(item.csObjectId) ?? []), item]);
  return groups;
}
