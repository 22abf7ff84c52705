/**
 * Password hashing with argon2id (memory-hard). The PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) records
 * the parameters, so raising them later only needs `needsRehash` at the next successful login.
 */
import { hash, verify } from "@node-rs/argon2";

// `Algorithm` is an ambient const enum (not importable under type stripping): 2 is Argon2id.
const ARGON2ID = 2;

export interface PasswordHasherOptions {
  /** Memory per hash in KiB. */
  memoryKib: number;
  /** Passes over the memory. */
  iterations: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time comparison (inside argon2); false for a malformed hash rather than an error. */
  verify(stored: string, password: string): Promise<boolean>;
  /** True when `stored` was made with weaker parameters than the current ones. */
  needsRehash(stored: string): boolean;
  /** Burns the same time as a real verification; used when the account does not exist, so timing reveals nothing. */
  verifyDummy(password: string): Promise<void>;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

/** A hasher with fixed parameters (parallelism 1: one request must not take every core). */
export function createPasswordHasher(opts: PasswordHasherOptions): PasswordHasher {
  const params = { algorithm: ARGON2ID, memoryCost: opts.memoryKib, timeCost: opts.iterations, parallelism: 1 };
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => hash(password, params),
    async verify(stored, password) {
      if (!PHC.test(stored)) return false;
      try {
        return await verify(stored, password);
      } catch {
        return false;
      }
    },
    needsRehash(stored) {
      const m = PHC.exec(stored);
      if (!m) return true;
      return Number(m[1]) < opts.memoryKib || Number(m[2]) < opts.iterations;
    },
    async verifyDummy(password) {
      dummy ??= hash("not-a-real-password-used-for-timing", params);
      await verify(await dummy, password).catch(() => false);
    },
  };
}
