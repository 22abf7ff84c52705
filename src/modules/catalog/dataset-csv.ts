/**
 * A streaming RFC 4180 CSV reader that knows on which line each record starts, so a malformed row can be
 * reported by its line number and skipped. Quoted fields may hold commas, doubled quotes and newlines
 * (the TMDb 5000 overviews do). Hand-written because it is ~100 lines and must report line numbers and
 * malformed quoting per record instead of aborting the file.
 */
import { createReadStream } from "node:fs";

export interface CsvRecord {
  /** 1-based line on which the record starts (the header is line 1). */
  readonly line: number;
  readonly fields: string[];
  /** Set when the record is malformed (a stray or unterminated quote); `fields` is then partial. */
  readonly error?: string;
}

/** Incremental parser: feed chunks with `push`, then call `end`; each returns the records completed. */
export class CsvParser {
  #field = "";
  #fields: string[] = [];
  #inQuotes = false;
  /** The previous character was a quote inside a quoted field (either an escape or the closing quote). */
  #quotePending = false;
  #line = 1;
  #recordLine = 1;
  #error: string | undefined;
  #afterCr = false;
  #recordHasContent = false;
  /** The current field was quoted and its closing quote has been read: only ',' or a line break may follow. */
  #closed = false;

  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (this.#afterCr && !this.#inQuotes) {
        this.#afterCr = false;
        if (ch === "\n") continue; // CRLF ends a record once (inside quotes the slice copy counts it)
      }
      if (this.#inQuotes) {
        if (this.#quotePending) {
          this.#quotePending = false;
          if (ch === '"') {
            this.#field += '"';
            continue;
          }
          this.#inQuotes = false; // that quote closed the field; handle `ch` as outside quotes below
          this.#closed = true;
        } else if (ch === '"') {
          this.#quotePending = true;
          this.#afterCr = false;
          continue;
        } else {
          // Copy up to the next quote in one slice: quoted fields are the long ones (overviews, JSON).
          const next = chunk.indexOf('"', i);
          const end = next < 0 ? chunk.length : next;
          const text = chunk.slice(i, end);
          this.#line += countLineBreaks(text, this.#afterCr);
          this.#afterCr = text.endsWith("\r");
          this.#field += text;
          i = end - 1;
          continue;
        }
      }
      if (ch === ",") {
        this.#fields.push(this.#field);
        this.#field = "";
        this.#closed = false;
        this.#recordHasContent = true;
      } else if (ch === "\n" || ch === "\r") {
        if (ch === "\r") this.#afterCr = true;
        this.#finishRecord(out);
        this.#line++;
        this.#recordLine = this.#line;
      } else if (ch === '"') {
        if (this.#field === "" && !this.#closed) this.#inQuotes = true;
        else {
          this.#error ??= `unexpected quote in field ${this.#fields.length + 1}`;
          this.#field += ch;
        }
        this.#recordHasContent = true;
      } else {
        if (this.#closed) this.#error ??= `text after the closing quote of field ${this.#fields.length + 1}`;
        this.#field += ch;
        this.#recordHasContent = true;
      }
    }
    return out;
  }

  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.#inQuotes && !this.#quotePending) this.#error ??= `unterminated quoted field ${this.#fields.length + 1}`;
    this.#inQuotes = false;
    this.#quotePending = false;
    this.#finishRecord(out);
    return out;
  }

  #finishRecord(out: CsvRecord[]): void {
    if (this.#recordHasContent || this.#field !== "" || this.#fields.length > 0) {
      this.#fields.push(this.#field);
      out.push(this.#error ? { line: this.#recordLine, fields: this.#fields, error: this.#error } : { line: this.#recordLine, fields: this.#fields });
    }
    this.#fields = [];
    this.#field = "";
    this.#error = undefined;
    this.#recordHasContent = false;
    this.#closed = false;
  }
}

/** Line breaks in `text` (CRLF, LF or CR each count once); `afterCr`: the text before it ended in CR. */
function countLineBreaks(text: string, afterCr: boolean): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) if (!(i === 0 ? afterCr : text[i - 1] === "\r")) n++;
  for (let i = text.indexOf("\r"); i >= 0; i = text.indexOf("\r", i + 1)) n++;
  return n;
}

/** Reads a CSV file record by record (blank lines are skipped). */
export async function* readCsv(path: string): AsyncGenerator<CsvRecord> {
  const parser = new CsvParser();
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    yield* parser.push(chunk as string);
  }
  yield* parser.end();
}

/** Parses a whole CSV text (tests, small files). */
export function parseCsv(text: string): CsvRecord[] {
  const parser = new CsvParser();
  return [...parser.push(text), ...parser.end()];
}
