/**
 * Seeded generator of request messages for the fuzz test: walks a message schema and fills fields with values
 * chosen to break things — boundary numbers, NaN and infinities, NUL and lone surrogates, oversized text, ids
 * beyond bigint, forged page tokens, unknown enum numbers, odd timestamps and field masks, hostile JSON in Structs —
 * mixed with plausible values so some messages get past validation and reach the handlers.
 */
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";


const token = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

const STRINGS = [
  "", "a", "1", "2", "42", "0", "-1", "01", "9223372036854775807", "9223372036854775808", "9999999999999999999",
  "\u0000", "a\u0000b", "\ud800", "x\udfffy", "🎬🍿", "é à ü ß 中文", "'; drop table users; --", "%_\\", "   ", "\t\n",
  "2024-01-01", "2024-02-30", "1900-01-01", "9999-12-31", "12:30", "25:99", "Europe/Paris", "Mars/Olympus", "en", "en-US",
  "US", "zz", "user@example.test", "not-an-email", "https://example.com/a.png", "javascript:alert(1)", "tt0133093",
  "+14155550100", "digestDay,timezone", "digest_day", "profile.bio", "{{#a}}{{#b}}{{#c}}{{.}}{{/c}}{{/b}}{{/a}}",
  "{{> partial}}", "{{unclosed", "<script>alert(1)</script>", "Strong-password-123!",
  token(["", "9999999999999999999"]), token(["x", 1e308, "1"]), token({ k: 1, i: "1", f: "x" }), token([null]),
  token(["", "not-a-time", "1"]), "!!!not-base64!!!", "eyJrIjoxfQ", "Bearer abc",
];

/** Field-name hints: an id-like field mostly gets id-like strings, so some calls reach the database. */
const IDS = ["1", "2", "3", "0", "-1", "9223372036854775807", "9223372036854775808", "9999999999999999999", "18446744073709551616", "1e3", " 1", "\u00001"];

const INT32 = [0, 1, -1, 2, 7, 20, 100, 1000, 5000, 2147483647, -2147483648];
const UINT32 = [0, 1, 2, 100, 4294967295];
const INT64 = [0n, 1n, -1n, 9223372036854775807n, -9223372036854775808n];
const UINT64 = [0n, 1n, 18446744073709551615n];
const DOUBLES = [0, -0, 1, 0.5, 4.5, 5, -1, 10, 1e308, -1e308, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const SECONDS = [0n, 1700000000n, -62135596801n, 253402300800n, 9223372036854775807n, -1n];

export class MessageFuzzer {
  private readonly random: () => number;
  constructor(random: () => number) {
    this.random = random;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  /** A random init object for `desc` (a message of it is `create(desc, init)`). */
  message(desc: DescMessage, depth = 0): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const oneof of desc.oneofs) {
      if (this.chance(0.15)) continue;
      const member = this.pick(oneof.fields);
      const value = this.single(member, depth);
      if (value !== undefined) out[oneof.localName] = { case: member.localName, value };
    }
    for (const field of desc.fields) {
      if (field.oneof || !this.chance(0.65)) continue;
      const value = this.fieldValue(field, desc, depth);
      if (value !== undefined) out[field.localName] = value;
    }
    return out;
  }

  private fieldValue(field: DescField, parent: DescMessage, depth: number): unknown {
    if (field.fieldKind === "list") {
      const n = this.chance(0.05) ? 60 : Math.floor(this.random() * 4);
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = field.listKind === "scalar" ? this.scalar(field.scalar, field) : field.listKind === "enum" ? this.enumValue(field.enum.values.map((v) => v.number)) : this.messageValue(field.message, depth);
        if (v !== undefined) items.push(v);
      }
      return items;
    }
    if (field.fieldKind === "map") {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(this.random() * 3); i > 0; i--) {
        const key = String(this.scalar(field.mapKey, field));
        out[key] = field.mapKind === "scalar" ? this.scalar(field.scalar, field) : field.mapKind === "enum" ? this.enumValue(field.enum.values.map((v) => v.number)) : this.messageValue(field.message, depth);
      }
      return out;
    }
    if (field.fieldKind === "message" && field.message.typeName === "google.protobuf.FieldMask") return { paths: this.maskPaths(parent) };
    return this.single(field, depth);
  }

  private single(field: DescField, depth: number): unknown {
    switch (field.fieldKind) {
      case "scalar":
        return this.scalar(field.scalar, field);
      case "enum":
        return this.enumValue(field.enum.values.map((v) => v.number));
      case "message":
        return this.messageValue(field.message, depth);
      default:
        return undefined;
    }
  }

  private enumValue(known: number[]): number {
    return this.chance(0.1) ? this.pick([99, -1, 2147483647]) : this.pick(known);
  }

  private maskPaths(parent: DescMessage): string[] {
    const names: string[] = ["", "*", "unknown_field", "id", "a.b.c", "\u0000"];
    for (const f of parent.fields) {
      if (f.fieldKind !== "message") continue;
      for (const sub of f.message.fields) names.push(sub.name, sub.jsonName, `${f.name}.${sub.name}`);
    }
    const n = 1 + Math.floor(this.random() * 3);
    return Array.from({ length: n }, () => this.pick(names));
  }

  private messageValue(desc: DescMessage, depth: number): unknown {
    switch (desc.typeName) {
      case "google.protobuf.Timestamp":
      case "google.protobuf.Duration":
        return { seconds: this.pick(SECONDS), nanos: this.pick([0, 1, 999999999, -1, 1000000000]) };
      case "google.protobuf.Struct":
        return this.json(0) as object;
      case "google.protobuf.Value":
        return this.json(1);
      case "google.protobuf.StringValue":
        return this.string(undefined);
      case "google.protobuf.Int32Value":
        return this.pick(INT32);
      case "google.protobuf.BoolValue":
        return this.chance(0.5);
      case "google.protobuf.DoubleValue":
      case "google.protobuf.FloatValue":
        return this.pick(DOUBLES);
      default:
        if (depth > 3) return undefined;
        if (desc.typeName.startsWith("google.protobuf.")) return undefined;
        return this.message(desc, depth + 1);
    }
  }

  /** JSON for Struct fields: nesting, NUL in keys and values, big numbers, long text. */
  private json(depth: number): unknown {
    const leaf = () => this.pick<unknown>([this.string(undefined), 1, -1, 1e308, true, null, "x".repeat(3000)]);
    if (depth > 3) return leaf();
    if (depth === 0 || this.chance(0.4)) {
      const obj: Record<string, unknown> = {};
      for (let i = 1 + Math.floor(this.random() * 3); i > 0; i--) obj[this.pick(["user", "first_name", "items", "a", "\u0000k", "movie", "title"])] = this.json(depth + 1);
      return obj;
    }
    if (this.chance(0.3)) return Array.from({ length: this.pick([0, 1, 3, 50]) }, () => this.json(depth + 2));
    return leaf();
  }

  private string(field: DescField | undefined): string {
    const name = field?.name ?? "";
    if ((name.endsWith("_id") || name.endsWith("_ids")) && this.chance(0.7)) return this.pick(IDS);
    if (this.chance(0.08)) return "x".repeat(this.pick([101, 255, 1025, 5001, 70000]));
    if (this.chance(0.1)) {
      const n = Math.floor(this.random() * 40);
      return Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(this.random() * 95))).join("");
    }
    return this.pick(STRINGS);
  }

  private scalar(type: ScalarType, field: DescField): unknown {
    switch (type) {
      case ScalarType.STRING:
        return this.string(field);
      case ScalarType.BOOL:
        return this.chance(0.5);
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return this.pick(INT32);
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return this.pick(UINT32);
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64: {
        const v = this.pick(INT64);
        return field.fieldKind === "scalar" && field.longAsString ? String(v) : v;
      }
      case ScalarType.UINT64:
      case ScalarType.FIXED64: {
        const v = this.pick(UINT64);
        return field.fieldKind === "scalar" && field.longAsString ? String(v) : v;
      }
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        return this.pick(DOUBLES);
      case ScalarType.BYTES:
        return this.bytes(Math.floor(this.random() * 16));
    }
  }

  /** Random bytes (also used as a malformed request body). */
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => Math.floor(this.random() * 256));
  }
}

/** Truncated or corrupted encodings of `valid`, plus pure noise: what a broken client might send. */
export function malformedBodies(fuzz: MessageFuzzer, valid: Uint8Array): Uint8Array[] {
  return [
    Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // length-delimited field 1 claiming 4 GB
    Uint8Array.from([0x0a, 0x02, 0xff, 0xfe]), // field 1 as a string of invalid UTF-8
    Uint8Array.from([0x07]), // field 0, wire type 7: illegal tag
    Uint8Array.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // overlong varint
    valid.length > 1 ? valid.subarray(0, valid.length - 1) : Uint8Array.from([0x12]),
    fuzz.bytes(32),
  ];
}
