/** The module's security helpers called directly: IP anonymisation, data encryption with key rotation, password hashing. */
import { describe, expect, it } from "vitest";
import { anonymizeIp, createPasswordHasher } from "../../src/modules/user/index.ts";
import { createDataCipher } from "../../src/modules/user/data-cipher.ts";

describe("anonymizeIp", () => {
  it.each([
    ["203.0.113.77", "203.0.113.0"],
    ["::ffff:198.51.100.9", "198.51.100.0"],
    ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"],
    ["2001:db8::1", "2001:db8:0::"],
    ["fe80::1%eth0", "fe80:0:0::"],
    ["not an ip", undefined],
  ])("%s → %s", (ip, want) => {
    expect(anonymizeIp(ip)).toBe(want);
  });
});

describe("data cipher", () => {
  const key = (b: number) => Buffer.alloc(32, b);

  it("round-trips, uses a fresh nonce each time, and names its key", () => {
    const c = createDataCipher([{ id: "k1", key: key(1) }], "users.phone_number");
    const a = c.encrypt("+14155550123");
    const b = c.encrypt("+14155550123");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^k1:/);
    expect(a.length).toBeLessThanOrEqual(128);
    expect(c.decrypt(a)).toBe("+14155550123");
  });

  it("decrypts with an older key after rotation, and rejects tampering, other columns and unknown keys", () => {
    const old = createDataCipher([{ id: "k1", key: key(1) }], "users.phone_number");
    const rotated = createDataCipher([{ id: "k2", key: key(2) }, { id: "k1", key: key(1) }], "users.phone_number");
    const stored = old.encrypt("+33612345678");
    expect(rotated.decrypt(stored)).toBe("+33612345678");
    expect(rotated.encrypt("x")).toMatch(/^k2:/);
    const raw = Buffer.from(stored.slice(3), "base64url");
    raw[14] = raw[14]! ^ 1;
    expect(() => old.decrypt(`k1:${raw.toString("base64url")}`)).toThrow();
    expect(() => createDataCipher([{ id: "k1", key: key(1) }], "other.column").decrypt(stored)).toThrow();
    expect(() => createDataCipher([{ id: "k9", key: key(9) }], "users.phone_number").decrypt(stored)).toThrow(/unknown key id/);
  });
});

describe("password hasher", () => {
  it("hashes with argon2id and its parameters, verifies, and asks for a rehash when parameters rise", async () => {
    const h = createPasswordHasher({ memoryKib: 4096, iterations: 1 });
    const stored = await h.hash("a long enough password");
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/);
    expect(await h.verify(stored, "a long enough password")).toBe(true);
    expect(await h.verify(stored, "a long enough passwore")).toBe(false);
    expect(await h.verify("pbkdf2_sha256$legacy", "x")).toBe(false);
    expect(h.needsRehash(stored)).toBe(false);
    expect(createPasswordHasher({ memoryKib: 8192, iterations: 1 }).needsRehash(stored)).toBe(true);
  });
});
