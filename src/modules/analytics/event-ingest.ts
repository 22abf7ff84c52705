/**
 * Ingestion of activity events: one (TrackEvent) or a stream of them (TrackEvents).
 *
 * A stream is cut into batches of up to BATCH_SIZE events (or whatever arrived within FLUSH_AFTER_MS), each written
 * with one COPY. While a batch is being written the next one is already being read and checked, but at most one write
 * is in flight, so batches commit in stream order and memory stays bounded. Invalid events are reported by their
 * 0-based stream index and the valid ones kept. With a batch key, each batch commits together with the batch's
 * progress: a retry with the same key resumes after the messages already handled, and a finished batch is answered
 * from its stored result, so nothing is stored twice. `onProgress` reports what is durable after every commit (the
 * RPC layer puts it in the trailers, which reach the client even when the call fails midway).
 */
import { InvalidInputError } from "../../platform/errors.ts";
import { type ActivityRow, type EventInput, type RequestOrigin, toActivityRow } from "./event-input.ts";
import { type BatchState, type EventStore, MAX_REPORTED_REJECTIONS, type Rejection } from "./event-store.ts";

export const BATCH_SIZE = 5000;
export const FLUSH_AFTER_MS = 1000;

/** One message of a TrackEvents stream. */
export interface IngestMessage {
  /** Read from the first message only. */
  readonly batchKey: string;
  readonly event: EventInput | undefined;
}

export interface IngestResult {
  readonly acceptedCount: number;
  /** Total refused, of which the first MAX_REPORTED_REJECTIONS are listed. */
  readonly rejectedCount: number;
  readonly rejected: readonly Rejection[];
  readonly duplicateBatch: boolean;
}

/** Durable progress of a stream: messages handled, and events stored. */
export interface IngestProgress {
  readonly processed: number;
  readonly accepted: number;
}

export interface IngestDeps {
  readonly store: EventStore;
  readonly now?: () => Date;
}

interface Pending {
  rows: ActivityRow[];
  indexes: number[];
  rejected: Rejection[];
  /** Stream position just after the last message of this batch. */
  end: number;
}

/** Records one event; refuses it (INVALID_ARGUMENT) when it breaks a rule or names an unknown movie. */
export async function ingestOne(deps: IngestDeps, origin: RequestOrigin, event: EventInput | undefined): Promise<void> {
  const row = toActivityRow(event, origin, (deps.now ?? (() => new Date()))());
  if ("reason" in row) throw new InvalidInputError(row.reason);
  if (row.movieId !== null && !(await deps.store.existingMovies([row.movieId])).has(row.movieId)) {
    throw new InvalidInputError(`movie ${row.movieId} does not exist`, "event.movie_id");
  }
  await deps.store.write([row]);
}

/** Consumes a TrackEvents stream; see the file comment for the guarantees. */
export async function ingestStream(
  deps: IngestDeps,
  opts: {
    callerKey: string;
    origin: RequestOrigin;
    onProgress?: (p: IngestProgress) => void;
    /** The call's signal: a client that resets the stream must not look like one that finished it. */
    signal?: AbortSignal;
  },
  messages: AsyncIterable<IngestMessage>,
): Promise<IngestResult> {
  const now = deps.now ?? (() => new Date());
  const it = messages[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return { acceptedCount: 0, rejectedCount: 0, rejected: [], duplicateBatch: false };

  let batch: BatchState | undefined;
  if (first.value.batchKey !== "") {
    batch = await deps.store.openBatch(opts.callerKey, first.value.batchKey);
    if (batch.completed) {
      await it.return?.(); // the client's remaining messages are not needed
      return { acceptedCount: batch.acceptedCount, rejectedCount: batch.rejectedCount, rejected: batch.rejected, duplicateBatch: true };
    }
  }
  // Durable totals (advanced only when a write commits).
  let processed = batch?.processedCount ?? 0;
  let accepted = batch?.acceptedCount ?? 0;
  let rejectedCount = batch?.rejectedCount ?? 0;
  let rejected: Rejection[] = [...(batch?.rejected ?? [])];
  const skip = processed; // a resumed batch: these messages were handled by an earlier call

  const flush = async (p: Pending): Promise<void> => {
    const movieIds = [...new Set(p.rows.map((r) => r.movieId).filter((id): id is string => id !== null))];
    const known = await deps.store.existingMovies(movieIds);
    const rows: ActivityRow[] = [];
    const refused = [...p.rejected];
    for (let i = 0; i < p.rows.length; i++) {
      const row = p.rows[i]!;
      if (row.movieId !== null && !known.has(row.movieId)) refused.push({ index: p.indexes[i]!, reason: `event.movie_id: movie ${row.movieId} does not exist` });
      else rows.push(row);
    }
    refused.sort((a, b) => a.index - b.index);
    const nextRejected = rejected.length >= MAX_REPORTED_REJECTIONS ? rejected : [...rejected, ...refused].slice(0, MAX_REPORTED_REJECTIONS);
    await deps.store.write(
      rows,
      batch && {
        batchId: batch.id,
        fromProcessed: processed,
        toProcessed: p.end,
        acceptedCount: accepted + rows.length,
        rejectedCount: rejectedCount + refused.length,
        rejected: nextRejected,
      },
    );
    processed = p.end;
    accepted += rows.length;
    rejectedCount += refused.length;
    rejected = nextRejected;
    opts.onProgress?.({ processed, accepted });
  };

  let inflight: Promise<void> = Promise.resolve();
  let pending: Pending = { rows: [], indexes: [], rejected: [], end: skip };
  let lastFlush = Date.now();
  let scheduledEnd = skip;
  const startFlush = async () => {
    const p = pending;
    pending = { rows: [], indexes: [], rejected: [], end: p.end };
    scheduledEnd = p.end;
    await inflight; // at most one write in flight, and writes commit in stream order
    inflight = flush(p);
    inflight.catch(() => {}); // observed by the next await; this only keeps it from counting as unhandled meanwhile
    lastFlush = Date.now();
  };

  let index = 0;
  let next: IteratorResult<IngestMessage> = first;
  try {
    while (!next.done) {
      if (index >= skip) {
        const row = toActivityRow(next.value.event, opts.origin, now());
        if ("reason" in row) pending.rejected.push({ index, reason: row.reason });
        else {
          pending.rows.push(row);
          pending.indexes.push(index);
        }
        pending.end = index + 1;
        if (pending.rows.length >= BATCH_SIZE || Date.now() - lastFlush >= FLUSH_AFTER_MS) await startFlush();
      }
      index++;
      next = await it.next();
    }
    // A reset HTTP/2 stream can end the message iterable like a normal half-close; the reset shows on the signal,
    // whose event may still be queued: let it run before deciding that the client finished the stream.
    await new Promise((resolve) => setImmediate(resolve));
    opts.signal?.throwIfAborted();
    if (pending.end > scheduledEnd) await startFlush();
    await inflight;
  } catch (e) {
    // The write in flight (if any) still decides what is durable; its own failure is the more telling error.
    await inflight;
    throw e;
  }
  if (batch) await deps.store.completeBatch(batch.id, processed);
  return { acceptedCount: accepted, rejectedCount, rejected, duplicateBatch: false };
}
