/**
 * What a user is served when their client names no algorithm: the variant of the experiment running on the surface
 * (bucketing.ts), else the surface's serving default (a promoted variant), else nothing (the hybrid).
 *
 * The surface's state is one query, cached per process for `ttlMs` (2 s by default): GetRecommendations does not
 * pay a database round trip for it, and a start or stop reaches every process within that time. The process that
 * made the change drops its cache at once (`invalidate`).
 */
import type pg from "pg";
import type { AlgorithmName, Assignment, HybridParams } from "../recommendation/index.ts";
import { ALGORITHMS } from "../recommendation/index.ts";
import { variantFor } from "./bucketing.ts";
import type { Surface, VariantSpec } from "./entities/index.ts";

interface SurfaceState {
  running: { id: string; salt: string; variants: VariantSpec[] } | null;
  fallback: { algorithm: string; variant: string | null; variants: VariantSpec[] | null } | null;
}

export interface Assigner {
  assign(userId: string, surface: Surface): Promise<Assignment | undefined>;
  /** Forgets the cached state (after a start or stop in this process). */
  invalidate(): void;
}

const isAlgorithm = (a: string): a is AlgorithmName => (ALGORITHMS as readonly string[]).includes(a);

export function createAssigner(deps: { pool: () => Promise<pg.Pool>; ttlMs?: number }): Assigner {
  const ttl = deps.ttlMs ?? 2000;
  const cache = new Map<Surface, { at: number; state: Promise<SurfaceState> }>();

  async function load(surface: Surface): Promise<SurfaceState> {
    const pool = await deps.pool();
    const { rows } = await pool.query<SurfaceState>(
      `select (select json_build_object('id', id::text, 'salt', salt, 'variants', variants) from experiments where surface = $1 and status = 'running') as running,
              (select json_build_object('algorithm', d.algorithm, 'variant', d.variant, 'variants', e.variants)
                 from serving_defaults d left join experiments e on e.id = d.experiment_id where d.surface = $1) as fallback`,
      [surface],
    );
    return rows[0] ?? { running: null, fallback: null };
  }

  function state(surface: Surface): Promise<SurfaceState> {
    const hit = cache.get(surface);
    if (hit && Date.now() - hit.at < ttl) return hit.state;
    const fresh = load(surface);
    cache.set(surface, { at: Date.now(), state: fresh });
    fresh.catch(() => cache.delete(surface)); // a failed read is not cached
    return fresh;
  }

  const hybridOf = (v: VariantSpec | undefined) => (v?.hybrid ? { hybrid: v.hybrid as Partial<HybridParams> } : {});

  return {
    async assign(userId, surface) {
      const s = await state(surface);
      if (s.running) {
        const v = variantFor(userId, s.running.salt, s.running.variants);
        if (!isAlgorithm(v.algorithm)) return undefined;
        return { algorithm: v.algorithm, ...hybridOf(v), experimentId: s.running.id, variant: v.name };
      }
      if (s.fallback && isAlgorithm(s.fallback.algorithm)) {
        const promoted = s.fallback.variants?.find((v) => v.name === s.fallback!.variant);
        return { algorithm: s.fallback.algorithm, ...hybridOf(promoted) };
      }
      return undefined;
    },
    invalidate: () => cache.clear(),
  };
}
