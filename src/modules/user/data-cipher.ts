/**
 * Encryption of personal data at rest (phone numbers): AES-256-GCM with a random 96-bit nonce per value.
 * Stored form: `<keyId>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The key id lets keys rotate: the first configured key
 * encrypts, every configured key decrypts, and values are re-encrypted with the current key whenever written.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export interface DataKey {
  readonly id: string;
  readonly key: Buffer;
}

export interface DataCipher {
  encrypt(plain: string): string;
  /** Throws when the key id is unknown or the value was tampered with (GCM authentication). */
  decrypt(stored: string): string;
}

const NONCE = 12;
const TAG = 16;

/** A cipher over `keys` (first = current). `aad` binds a value to its column, so it cannot be moved to another. */
export function createDataCipher(keys: readonly DataKey[], aad: string): DataCipher {
  if (keys.length === 0) throw new Error("at least one data key is needed");
  const current = keys[0]!;
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  const aadBuf = Buffer.from(aad, "utf8");
  return {
    encrypt(plain) {
      const nonce = randomBytes(NONCE);
      const cipher = createCipheriv("aes-256-gcm", current.key, nonce);
      cipher.setAAD(aadBuf);
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return `${current.id}:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url")}`;
    },
    decrypt(stored) {
      const sep = stored.indexOf(":");
      const key = sep > 0 ? byId.get(stored.slice(0, sep)) : undefined;
      if (!key) throw new Error("value encrypted with an unknown key id");
      const raw = Buffer.from(stored.slice(sep + 1), "base64url");
      if (raw.length < NONCE + TAG) throw new Error("encrypted value is truncated");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, NONCE));
      decipher.setAAD(aadBuf);
      decipher.setAuthTag(raw.subarray(raw.length - TAG));
      return Buffer.concat([decipher.update(raw.subarray(NONCE, raw.length - TAG)), decipher.final()]).toString("utf8");
    },
  };
}
