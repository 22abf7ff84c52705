/**
 * A reader of PostgreSQL's binary COPY format for rows of float8 columns: what the training load streams 10 million
 * aggregated interactions through. The text protocol made one JS object with five parsed fields per row; this reads
 * the numbers straight from the bytes into one reused Float64Array.
 * Format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4): an 11-byte signature, int32 flags,
 * int32 header-extension length and the extension; then per tuple an int16 field count and per field an int32 length
 * (-1 for NULL) and the bytes, big-endian; a field count of -1 ends the data.
 */
import { Writable } from "node:stream";

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
/** Nothing pending: one shared empty buffer (PostgreSQL sends a row per message, so this is most calls). */
const EMPTY = Buffer.alloc(0);

export class BinaryCopyFormatError extends Error {}

/** Parses a stream of binary COPY bytes of `columns` float8 columns (NULL reads as NaN), calling `onRow` per tuple. */
export class Float8CopyReader {
  readonly #columns: number;
  readonly #onRow: (row: Float64Array) => void;
  readonly #row: Float64Array;
  #pending: Buffer = EMPTY;
  #headerDone = false;
  #ended = false;
  rows = 0;

  constructor(columns: number, onRow: (row: Float64Array) => void) {
    this.#columns = columns;
    this.#onRow = onRow;
    this.#row = new Float64Array(columns);
  }

  /** Feeds the next bytes; any split of the stream into chunks gives the same rows. */
  push(chunk: Buffer): void {
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let at = 0;
    if (!this.#headerDone) {
      if (buf.length < 19) return void (this.#pending = buf);
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new BinaryCopyFormatError("not a binary COPY stream");
      const ext = buf.readInt32BE(15);
      if (buf.length < 19 + ext) return void (this.#pending = buf);
      at = 19 + ext;
      this.#headerDone = true;
    }
    const cols = this.#columns;
    const row = this.#row;
    // A tuple of float8 fields is 2 + cols * 12 bytes, less for each NULL (4 bytes, no data).
    for (;;) {
      if (this.#ended) {
        if (at < buf.length) throw new BinaryCopyFormatError("data after the end of the COPY");
        break;
      }
      if (buf.length - at < 2) break;
      const count = buf.readInt16BE(at);
      if (count === -1) {
        this.#ended = true;
        at += 2;
        continue;
      }
      if (count !== cols) throw new BinaryCopyFormatError(`expected ${cols} fields, got ${count}`);
      let p = at + 2;
      let complete = true;
      for (let c = 0; c < cols; c++) {
        if (buf.length - p < 4) {
          complete = false;
          break;
        }
        const len = buf.readInt32BE(p);
        p += 4;
        if (len === -1) {
          row[c] = NaN;
          continue;
        }
        if (len !== 8) throw new BinaryCopyFormatError(`expected float8 fields, got ${len} bytes`);
        if (buf.length - p < 8) {
          complete = false;
          break;
        }
        row[c] = buf.readDoubleBE(p);
        p += 8;
      }
      if (!complete) break;
      at = p;
      this.rows++;
      this.#onRow(row);
    }
    buf = buf.subarray(at);
    // Copied so a small remainder does not pin the whole chunk it came from.
    this.#pending = buf.length > 0 ? Buffer.from(buf) : EMPTY;
  }

  /** Throws unless the stream ended with the trailer and nothing pending. */
  end(): void {
    if (!this.#ended || this.#pending.length > 0) throw new BinaryCopyFormatError("binary COPY stream ended early");
  }

  /** A Writable to pipe a COPY TO stream into. */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        try {
          this.push(chunk);
          done();
        } catch (e) {
          done(e as Error);
        }
      },
      final: (done) => {
        try {
          this.end();
          done();
        } catch (e) {
          done(e as Error);
        }
      },
    });
  }
}
