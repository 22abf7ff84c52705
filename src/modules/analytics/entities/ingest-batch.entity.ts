/**
 * `analytics_ingest_batches` (not in the design): progress of each TrackEvents batch that carries a `batch_key`.
 * Updated in the same transaction as the events it accounts for, so `processedCount` is exactly the number of
 * stream messages whose outcome (stored or rejected) is durable. A retry with the same key resumes after them,
 * and a completed batch is answered from this row: no event is ever stored twice.
 */
import { defineEntity, p } from "@mikro-orm/core";

export const IngestBatchSchema = defineEntity({
  name: "IngestBatch",
  tableName: "analytics_ingest_batches",
  uniques: [{ properties: ["callerKey", "batchKey"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    /** Who sent the batch (`user:<id>` or `service:<name>`): keys are scoped per caller. */
    callerKey: p.string().length(120),
    batchKey: p.string().length(64),
    /** Stream messages handled so far (stored or rejected), counted from the start of the stream. */
    processedCount: p.integer().default(0),
    acceptedCount: p.integer().default(0),
    rejectedCount: p.integer().default(0),
    /** The first rejections (index and reason), as answered to the client. */
    rejected: p.json<{ index: number; reason: string }[]>().defaultRaw("'[]'").onCreate(() => []),
    /** Set when the stream ended normally: later calls with the key get the stored answer. */
    completedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class IngestBatch extends IngestBatchSchema.class {}
IngestBatchSchema.setClass(IngestBatch);
