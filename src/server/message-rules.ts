/**
 * Rules that hold for every field of every request message, checked by walking the message schema, so no handler
 * (and no new field) can forget them:
 *
 * - text is storable: no NUL character (PostgreSQL text and jsonb refuse it, which used to surface as INTERNAL) and
 *   well-formed Unicode (no lone surrogates, which a JSON `\ud800` escape can produce; invalid UTF-8 bytes in the
 *   binary format are refused by the protobuf parser itself);
 * - an id is a bigint: a string field validated with the id pattern (`^[1-9][0-9]{0,18}$`) also fits PostgreSQL's
 *   bigint, so "9999999999999999999" is INVALID_ARGUMENT instead of a failing cast.
 *
 * Fields marked `(buf.validate.field).ignore = IGNORE_ALWAYS` are skipped: their handler validates them itself
 * (TrackEvents reports a bad event by its index instead of failing the stream).
 */
import { type DescField, type DescMessage, ScalarType, getOption } from "@bufbuild/protobuf";
import { Ignore, field as fieldRulesExt, type FieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

/** The pattern every decimal id field of the API is validated with (see proto/). */
export const ID_PATTERN = "^[1-9][0-9]{0,18}$";
const INT8_MAX = "9223372036854775807";

/** A broken rule: the field path as protovalidate spells it (`events[2].name`) and why. */
export interface MessageRuleViolation {
  field: string;
  message: string;
}

/** True when a decimal id string (already matching ID_PATTERN) is at most PostgreSQL's bigint maximum. */
export function fitsBigint(id: string): boolean {
  // Same-length decimal strings compare like the numbers they spell.
  return id.length < INT8_MAX.length || (id.length === INT8_MAX.length && id <= INT8_MAX);
}

// With the u flag a paired surrogate is one code point, so only unpaired halves match.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Why a text value cannot be stored, or undefined when it can. */
export function textProblem(value: string): string | undefined {
  if (value.includes("\0")) return "must not contain the NUL character";
  if (LONE_SURROGATE.test(value)) return "must be valid UTF-8 text";
  return undefined;
}

interface FieldPlan {
  field: DescField;
  /** The string (or list items) carry the id pattern. */
  isId: boolean;
}

const plans = new WeakMap<DescMessage, FieldPlan[]>();

function rulesOf(field: DescField): FieldRules | undefined {
  try {
    return getOption(field, fieldRulesExt);
  } catch {
    return undefined;
  }
}

function planFor(desc: DescMessage): FieldPlan[] {
  let plan = plans.get(desc);
  if (plan) return plan;
  plan = [];
  for (const field of desc.fields) {
    const rules = rulesOf(field);
    if (rules?.ignore === Ignore.ALWAYS) continue;
    let pattern: string | undefined;
    if (rules?.type.case === "string") pattern = rules.type.value.pattern;
    else if (rules?.type.case === "repeated" && rules.type.value.items?.type.case === "string") pattern = rules.type.value.items.type.value.pattern;
    plan.push({ field, isId: pattern === ID_PATTERN });
  }
  plans.set(desc, plan);
  return plan;
}

const JSON_TYPES = new Set(["google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"]);

/** Every violation of the rules above in `message` (a message of `desc`), depth-first; empty when it is clean. */
export function checkMessage(desc: DescMessage, message: unknown, limit = 10): MessageRuleViolation[] {
  const out: MessageRuleViolation[] = [];
  walkMessage(desc, message as Record<string, unknown>, "", out, limit, 0);
  return out;
}

function walkMessage(desc: DescMessage, msg: Record<string, unknown> | undefined, prefix: string, out: MessageRuleViolation[], limit: number, depth: number): void {
  if (!msg || typeof msg !== "object" || depth > 64) return;
  for (const { field, isId } of planFor(desc)) {
    if (out.length >= limit) return;
    let value: unknown;
    if (field.oneof) {
      const o = msg[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
      if (o?.case !== field.localName) continue;
      value = o.value;
    } else value = msg[field.localName];
    if (value === undefined || value === null) continue;
    const path = prefix + field.name;
    switch (field.fieldKind) {
      case "scalar":
        if (field.scalar === ScalarType.STRING) checkString(value as string, path, isId, out);
        break;
      case "list":
        (value as unknown[]).forEach((item, i) => {
          if (field.listKind === "scalar" && field.scalar === ScalarType.STRING) checkString(item as string, `${path}[${i}]`, isId, out);
          else if (field.listKind === "message") walkValue(field.message, item, `${path}[${i}]`, out, limit, depth);
        });
        break;
      case "map":
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          const at = `${path}[${JSON.stringify(k)}]`;
          if (field.mapKey === ScalarType.STRING) checkString(k, at, false, out);
          if (field.mapKind === "scalar" && field.scalar === ScalarType.STRING) checkString(v as string, at, false, out);
          else if (field.mapKind === "message") walkValue(field.message, v, at, out, limit, depth);
        }
        break;
      case "message":
        walkValue(field.message, value, path, out, limit, depth);
        break;
      default:
        break;
    }
  }
}

/** A message-typed value: a nested message, an unboxed wrapper (StringValue → string) or a Struct/Value (plain JSON). */
function walkValue(desc: DescMessage, value: unknown, path: string, out: MessageRuleViolation[], limit: number, depth: number): void {
  if (typeof value === "string") checkString(value, path, false, out);
  else if (JSON_TYPES.has(desc.typeName)) checkJson(value, path, out, limit, 0);
  else if (value && typeof value === "object") walkMessage(desc, value as Record<string, unknown>, `${path}.`, out, limit, depth + 1);
}

function checkJson(value: unknown, path: string, out: MessageRuleViolation[], limit: number, depth: number): void {
  if (out.length >= limit || depth > 64) return;
  if (typeof value === "string") checkString(value, path, false, out);
  else if (Array.isArray(value)) value.forEach((v, i) => checkJson(v, `${path}[${i}]`, out, limit, depth + 1));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const at = `${path}[${JSON.stringify(k)}]`;
      checkString(k, at, false, out);
      checkJson(v, at, out, limit, depth + 1);
    }
  }
}

function checkString(value: string, path: string, isId: boolean, out: MessageRuleViolation[]): void {
  if (typeof value !== "string") return;
  const problem = textProblem(value);
  if (problem) out.push({ field: path, message: problem });
  // Only a value the pattern accepts is range-checked; anything else gets protovalidate's own pattern message.
  else if (isId && /^[1-9][0-9]{18}$/.test(value) && !fitsBigint(value)) out.push({ field: path, message: `must be at most ${INT8_MAX}` });
}
