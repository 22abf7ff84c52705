/** The published model in Redis (see model-artefact.ts for why there), cached per process by version. */
import type { Redis } from "ioredis";
import { decodeModel, encodeModel, type ModelMeta, type StoredModel } from "./model-artefact.ts";

const CURRENT = "rec:model:current";
const blobKey = (version: string) => `rec:model:blob:${version}`;
const TRAINING = "rec:training";

export interface TrainingStatus {
  state: "idle" | "queued" | "running" | "failed";
  jobId: string;
  lastError: string;
}

/** Loads the current model, reusing the decoded one while the version has not changed. */
export class ModelStore {
  readonly #redis: Redis;
  #cached: StoredModel | null = null;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Stores the artefact and makes it current; the previous one expires a day later (running jobs may still read it). */
  async publish(stored: StoredModel): Promise<void> {
    const previous = await this.#redis.get(CURRENT);
    await this.#redis.set(blobKey(stored.meta.version), encodeModel(stored));
    await this.#redis.set(CURRENT, stored.meta.version);
    if (previous && previous !== stored.meta.version) await this.#redis.expire(blobKey(previous), 86_400);
    this.#cached = stored;
  }

  async current(): Promise<StoredModel | null> {
    const version = await this.#redis.get(CURRENT);
    if (!version) {
      // Redis lost the model (restarted empty, flushed) while this process still holds it: put it back, so that
      // rescoring goes on instead of waiting for the next training.
      if (this.#cached) await this.publish(this.#cached);
      return this.#cached;
    }
    if (this.#cached?.meta.version === version) return this.#cached;
    const buf = await this.#redis.getBuffer(blobKey(version));
    if (!buf) return null;
    this.#cached = decodeModel(buf);
    return this.#cached;
  }

  /** The current model's statistics without decoding its arrays. */
  async meta(): Promise<ModelMeta | null> {
    const m = await this.current();
    return m?.meta ?? null;
  }

  async setTraining(status: Partial<TrainingStatus>): Promise<void> {
    await this.#redis.hset(TRAINING, status as Record<string, string>);
  }

  async training(): Promise<TrainingStatus> {
    const h = await this.#redis.hgetall(TRAINING);
    return { state: (h.state as TrainingStatus["state"]) ?? "idle", jobId: h.jobId ?? "", lastError: h.lastError ?? "" };
  }
}
