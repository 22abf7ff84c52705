/**
 * "Training started" is an audited action, but the change is a job in Redis, not a row: the audit row is written in a
 * transaction that is open while the job is enqueued, and committed only when the enqueue succeeded and was not a
 * duplicate (a repeated request_id starts nothing and leaves no row). The one gap left is a commit that fails after
 * the enqueue, which a database transaction cannot close across two stores.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { recordAudit } from "../audit/index.ts";

class NotEnqueued extends Error {}

/** Runs `enqueue` between the audit row's insert and its commit. */
export async function startTrainingAudited(
  em: EntityManager,
  enqueue: () => Promise<{ jobId: string; enqueued: boolean }>,
  evaluate: boolean,
): Promise<{ jobId: string; enqueued: boolean }> {
  let result: { jobId: string; enqueued: boolean } | undefined;
  try {
    await em.transactional(async (tx) => {
      // Inserted first: if the row cannot be written, nothing is enqueued.
      const auditId = await recordAudit(tx, { action: "training.start", table: "recommendation_models", operation: "INSERT", after: { evaluate } });
      result = await enqueue();
      if (!result.enqueued) throw new NotEnqueued();
      await tx.execute("update audit_log set record_id = ? where id = ?", [result.jobId.slice(0, 64), auditId]);
    });
  } catch (e) {
    if (!(e instanceof NotEnqueued)) throw e;
  }
  return result!;
}
