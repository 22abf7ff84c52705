/**
 * Reads the entries of a .zip held in memory (stored or deflated, no zip64): enough for the official dataset
 * archives (MovieLens, Kaggle), so `npm run datasets` needs no `unzip` on the machine.
 */
import { inflateRawSync } from "node:zlib";

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Every file entry of `zip` as name → bytes; throws on a damaged or unsupported archive. */
export function readZipEntries(zip: Buffer): Map<string, Buffer> {
  let eocd = -1;
  // The end record sits in the last 22 bytes plus a comment of at most 65,535 bytes.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive (no end of central directory)");
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== CENTRAL) throw new Error("damaged zip archive (central directory)");
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + skip;
    if (name.endsWith("/")) continue; // a folder
    if (zip.readUInt32LE(local) !== LOCAL) throw new Error(`damaged zip archive (entry ${name})`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    if (method !== 0 && method !== 8) throw new Error(`zip entry ${name}: unsupported compression method ${method}`);
    const data = method === 0 ? Buffer.from(raw) : inflateRawSync(raw);
    if (data.length !== size) throw new Error(`zip entry ${name}: expected ${size} bytes, got ${data.length}`);
    out.set(name, data);
  }
  return out;
}
