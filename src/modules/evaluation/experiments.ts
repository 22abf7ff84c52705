/**
 * Experiments' lifecycle: draft → running → stopped, never back. Every change is one transaction with its audit row
 * (`experiment.create`, `experiment.start`, `experiment.stop`), so a change that fails leaves no row. At most one
 * experiment runs per surface: the start checks first (to name the running one in the error), and the partial unique
 * index `idx_experiments_one_running` settles a race between two starts, rolling the loser back with its audit row.
 * Stopping may promote a variant: the surface's serving default is written in the same transaction.
 */
import { randomBytes } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import { ConflictError, InvalidInputError, NotFoundError, PreconditionError } from "../../platform/errors.ts";
import { recordAudit } from "../audit/index.ts";
import { sharesToBasisPoints } from "./bucketing.ts";
import type { ExperimentStatus, Surface, VariantSpec } from "./entities/index.ts";

export interface ExperimentRow {
  id: string;
  name: string;
  surface: Surface;
  salt: string;
  status: ExperimentStatus;
  variants: VariantSpec[];
  minSamplePerVariant: number;
  createdAt: Date;
  startedAt: Date | null;
  stoppedAt: Date | null;
  promotedVariant: string | null;
}

export interface NewExperiment {
  name: string;
  surface: Surface;
  /** Empty: a random one. */
  salt: string;
  variants: { name: string; algorithm: string; share: number; hybrid?: Record<string, number> | undefined }[];
  /** 0: the default (1000). */
  minSamplePerVariant: number;
}

const COLUMNS = `id::text as id, name, surface, salt, status, variants, min_sample_per_variant, created_at, started_at, stopped_at, promoted_variant`;
type Raw = { id: string; name: string; surface: Surface; salt: string; status: ExperimentStatus; variants: VariantSpec[]; min_sample_per_variant: number; created_at: Date; started_at: Date | null; stopped_at: Date | null; promoted_variant: string | null };
const toRow = (r: Raw): ExperimentRow => ({
  id: r.id, name: r.name, surface: r.surface, salt: r.salt, status: r.status, variants: r.variants, minSamplePerVariant: r.min_sample_per_variant,
  createdAt: new Date(r.created_at), startedAt: r.started_at && new Date(r.started_at), stoppedAt: r.stopped_at && new Date(r.stopped_at), promotedVariant: r.promoted_variant,
});

const isUniqueViolation = (e: unknown, constraint: string) => ((e as { code?: string }).code === "23505" || /unique|duplicate key/i.test((e as Error).message ?? "")) && (e as Error).message?.includes(constraint);
/** What an audit row says of an experiment (no salt: the audit writer drops it anyway). */
const audited = (e: Pick<ExperimentRow, "name" | "surface" | "status" | "variants">) => ({ name: e.name, surface: e.surface, status: e.status, variants: e.variants });

/** Validates and stores a draft; ALREADY_EXISTS for a taken name. */
export async function createExperiment(em: EntityManager, input: NewExperiment, createdBy: string | null): Promise<ExperimentRow> {
  const names = new Set(input.variants.map((v) => v.name));
  if (names.size !== input.variants.length) throw new InvalidInputError("variant names must be unique", "variants");
  const bp = sharesToBasisPoints(input.variants.map((v) => v.share));
  if (!bp) throw new InvalidInputError("shares must each be above 0 and sum to 1", "variants");
  input.variants.forEach((v, i) => {
    if (v.hybrid && Object.keys(v.hybrid).length > 0 && v.algorithm !== "hybrid") throw new InvalidInputError("hybrid parameters need ALGORITHM_HYBRID", `variants[${i}].hybrid`);
  });
  const variants: VariantSpec[] = input.variants.map((v, i) => ({
    name: v.name, algorithm: v.algorithm, shareBp: bp[i]!, ...(v.hybrid && Object.keys(v.hybrid).length > 0 ? { hybrid: v.hybrid } : {}),
  }));
  const salt = input.salt || randomBytes(12).toString("base64url");
  try {
    return await em.transactional(async (tx) => {
      const [row] = await tx.execute<Raw[]>(
        `insert into experiments (name, surface, salt, variants, min_sample_per_variant, created_by) values (?, ?, ?, ?::jsonb, ?, ?) returning ${COLUMNS}`,
        [input.name, input.surface, salt, JSON.stringify(variants), input.minSamplePerVariant || 1000, createdBy],
      );
      const created = toRow(row!);
      await recordAudit(tx, { action: "experiment.create", table: "experiments", operation: "INSERT", recordId: created.id, after: { ...audited(created), minSamplePerVariant: created.minSamplePerVariant } });
      return created;
    });
  } catch (e) {
    if (isUniqueViolation(e, "name")) throw new ConflictError(`an experiment named "${input.name}" exists`);
    throw e;
  }
}

export async function getExperiment(em: EntityManager, id: string): Promise<ExperimentRow> {
  const [row] = await em.execute<Raw[]>(`select ${COLUMNS} from experiments where id = ?::bigint`, [id]);
  if (!row) throw new NotFoundError("experiment", id);
  return toRow(row);
}

/** Newest first, keyset-paged by id. */
export async function listExperiments(em: EntityManager, opts: { status?: ExperimentStatus | undefined; limit: number; beforeId?: string | undefined }): Promise<ExperimentRow[]> {
  const rows = await em.execute<Raw[]>(
    `select ${COLUMNS} from experiments where (?::text is null or status = ?) and (?::bigint is null or id < ?::bigint) order by id desc limit ?`,
    [opts.status ?? null, opts.status ?? null, opts.beforeId ?? null, opts.beforeId ?? null, opts.limit],
  );
  return rows.map(toRow);
}

/** draft → running; FAILED_PRECONDITION when it is not a draft or another experiment runs on its surface. */
export async function startExperiment(em: EntityManager, id: string): Promise<ExperimentRow> {
  try {
    return await em.transactional(async (tx) => {
      const [row] = await tx.execute<Raw[]>(`select ${COLUMNS} from experiments where id = ?::bigint for update`, [id]);
      if (!row) throw new NotFoundError("experiment", id);
      if (row.status !== "draft") throw new PreconditionError(`experiment ${id} is ${row.status}; only a draft can start`);
      const [other] = await tx.execute<{ id: string; name: string }[]>("select id::text as id, name from experiments where surface = ? and status = 'running'", [row.surface]);
      if (other) throw new PreconditionError(`experiment ${other.id} ("${other.name}") is running on surface ${row.surface}; stop it first`);
      // The audit row first: when a concurrent start wins the race, the update below fails and takes the row with it.
      await recordAudit(tx, { action: "experiment.start", table: "experiments", operation: "UPDATE", recordId: id, before: { status: "draft" }, after: { status: "running" } });
      const [started] = await tx.execute<Raw[]>(`update experiments set status = 'running', started_at = now(), updated_at = now() where id = ?::bigint returning ${COLUMNS}`, [id]);
      return toRow(started!);
    });
  } catch (e) {
    if (isUniqueViolation(e, "idx_experiments_one_running")) throw new PreconditionError("another experiment started on this surface at the same time");
    throw e;
  }
}

/** running → stopped; with `promote`, that variant becomes the surface's serving default. */
export async function stopExperiment(em: EntityManager, id: string, promote: string | undefined): Promise<ExperimentRow> {
  return em.transactional(async (tx) => {
    const [row] = await tx.execute<Raw[]>(`select ${COLUMNS} from experiments where id = ?::bigint for update`, [id]);
    if (!row) throw new NotFoundError("experiment", id);
    if (row.status !== "running") throw new PreconditionError(`experiment ${id} is ${row.status}; only a running experiment can stop`);
    const variant = promote ? row.variants.find((v) => v.name === promote) : undefined;
    if (promote && !variant) throw new InvalidInputError(`experiment ${id} has no variant "${promote}"`, "promote_variant");
    const [stopped] = await tx.execute<Raw[]>(
      `update experiments set status = 'stopped', stopped_at = now(), promoted_variant = ?, updated_at = now() where id = ?::bigint returning ${COLUMNS}`,
      [promote || null, id],
    );
    if (variant) {
      await tx.execute(
        `insert into serving_defaults (surface, algorithm, experiment_id, variant, updated_at) values (?, ?, ?::bigint, ?, now())
         on conflict (surface) do update set algorithm = excluded.algorithm, experiment_id = excluded.experiment_id, variant = excluded.variant, updated_at = now()`,
        [row.surface, variant.algorithm, id, variant.name],
      );
    }
    await recordAudit(tx, {
      action: "experiment.stop", table: "experiments", operation: "UPDATE", recordId: id, before: { status: "running" },
      after: { status: "stopped", ...(variant ? { promotedVariant: variant.name, defaultAlgorithm: variant.algorithm, ...(variant.hybrid ? { defaultHybrid: variant.hybrid } : {}) } : {}) },
    });
    return toRow(stopped!);
  });
}
