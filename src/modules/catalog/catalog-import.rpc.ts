/**
 * StartTmdbImport and GetImportJob: protobuf ↔ import job mapping, nothing else. The job lives in BullMQ
 * (its progress counters are the job's progress), so GetImportJob reads the queue, not the database.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Job, Queue } from "bullmq";
import { ImportJobState, ImportKind, type ImportJobSchema } from "../../../gen/movierec/catalog/v1/catalog_pb.js";
import type { CatalogService, StartTmdbImportRequest } from "../../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { callerKey, requireStaff } from "../../platform/caller.ts";
import type { Config } from "../../platform/config.ts";
import { ConflictError, NotFoundError, PreconditionError } from "../../platform/errors.ts";
import type { Queues } from "../../platform/queues.ts";
import { emptyProgress, importJobId, MAX_ERRORS, TMDB_IMPORT_JOB, type ImportKind as Kind, type ImportProgress, type TmdbImportParams } from "./import-job.ts";

const KINDS: Record<Kind, ImportKind> = {
  genres: ImportKind.GENRES,
  popular: ImportKind.POPULAR,
  top_rated: ImportKind.TOP_RATED,
  now_playing: ImportKind.NOW_PLAYING,
  upcoming: ImportKind.UPCOMING,
  tmdb_ids: ImportKind.TMDB_IDS,
};
const FROM_WIRE = new Map<ImportKind, Kind>(Object.entries(KINDS).map(([k, v]) => [v, k as Kind]));

function toParams(req: StartTmdbImportRequest): TmdbImportParams {
  const kind = FROM_WIRE.get(req.kind);
  if (!kind) throw new PreconditionError("unknown import kind"); // protovalidate rejects it first
  return {
    kind,
    tmdbIds: kind === "tmdb_ids" ? [...req.tmdbIds] : [],
    pages: kind === "genres" || kind === "tmdb_ids" ? 0 : Math.max(1, req.pages),
    startPage: kind === "genres" || kind === "tmdb_ids" ? 0 : Math.max(1, req.startPage),
    includeCredits: req.includeCredits,
  };
}

const STATES: Record<string, ImportJobState> = {
  waiting: ImportJobState.QUEUED,
  delayed: ImportJobState.QUEUED,
  prioritized: ImportJobState.QUEUED,
  "waiting-children": ImportJobState.QUEUED,
  active: ImportJobState.RUNNING,
  completed: ImportJobState.SUCCEEDED,
  failed: ImportJobState.FAILED,
};

async function toImportJob(snapshot: Job, queue: Queue): Promise<MessageInitShape<typeof ImportJobSchema>> {
  const state = await snapshot.getState();
  // The snapshot may predate the end of the job (read while active, finished since): read it again
  // after the state, so a failed job always comes with its failedReason and final progress.
  const job = state === "failed" || state === "completed" ? ((await queue.getJob(snapshot.id!)) ?? snapshot) : snapshot;
  const params = job.data as TmdbImportParams;
  const raw = job.progress;
  const progress: ImportProgress = typeof raw === "object" && raw !== null ? { ...emptyProgress(), ...(raw as Partial<ImportProgress>) } : emptyProgress();
  const errors = [...progress.errors];
  if (state === "failed" && job.failedReason) errors.push(`job failed: ${job.failedReason}`);
  return {
    jobId: job.id!,
    kind: KINDS[params.kind],
    tmdbIds: [...params.tmdbIds],
    pages: params.pages,
    state: STATES[state] ?? ImportJobState.UNSPECIFIED,
    found: progress.found,
    imported: progress.imported,
    updated: progress.updated,
    skipped: progress.skipped,
    failed: progress.failed,
    errors: errors.slice(0, MAX_ERRORS),
    createdAt: timestampFromMs(job.timestamp),
    startedAt: job.processedOn ? timestampFromMs(job.processedOn) : undefined,
    finishedAt: job.finishedOn ? timestampFromMs(job.finishedOn) : undefined,
  };
}

const sameParams = (a: TmdbImportParams, b: TmdbImportParams) => JSON.stringify(a) === JSON.stringify(b);

/** The import half of CatalogService (the rest is createCatalogRpc). Staff only. */
export function createCatalogImportRpc(deps: { readonly config: Config; readonly queues: Queues }): Partial<ServiceImpl<typeof CatalogService>> {
  const queue = deps.queues["catalog-import"];
  return {
    async startTmdbImport(req, ctx) {
      requireStaff(ctx.values.get(callerKey));
      if (!deps.config.tmdb.apiKey && !deps.config.tmdb.bearerToken) {
        throw new PreconditionError("TMDb is not configured: set TMDB_API_KEY or TMDB_BEARER_TOKEN");
      }
      const params = toParams(req);
      const jobId = importJobId(req.requestId || undefined);
      // With a request_id the id is deterministic and BullMQ ignores the second add: the first job comes back.
      const added = await queue.add(TMDB_IMPORT_JOB, params, { jobId });
      // Read it back: on a duplicate id, `add` returns an object carrying our data, not the stored job's.
      const job = (await queue.getJob(jobId)) ?? added;
      if (!sameParams(job.data as TmdbImportParams, params)) throw new ConflictError("request_id was already used for a different import");
      return { job: await toImportJob(job, queue) };
    },

    async getImportJob(req, ctx) {
      requireStaff(ctx.values.get(callerKey));
      const job = await queue.getJob(req.jobId);
      if (!job || job.name !== TMDB_IMPORT_JOB) throw new NotFoundError("import job", req.jobId);
      return { job: await toImportJob(job, queue) };
    },
  };
}
