/**
 * Field masks explained in the caller's own spelling.
 *
 * A `google.protobuf.FieldMask` has two wire forms that look nothing alike: in binary (gRPC, `application/proto`) it
 * is a message whose `paths` are proto names (`digest_day`); in protobuf JSON (Connect, gRPC-Web+JSON, grpcurl's
 * `-d`) it is ONE string of lowerCamelCase paths separated by commas (`"updateMask": "digestDay,timezone"`).
 * protovalidate's `field_mask.in` rule lists the allowed paths in proto names only, and protobuf-es's JSON parser
 * refuses the natural guesses (`"digest_day"`, `{"paths": […]}`) with messages that never show the right form.
 * This module reads the allowed paths from each mask field's `(buf.validate.field).field_mask.in` rule (the proto
 * stays the one source) and words the errors for the caller's encoding.
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { getOption } from "@bufbuild/protobuf";
import { field as fieldRulesExt } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

/** A FieldMask field of a request message and the paths its rule allows (proto names). */
export interface MaskField {
  field: DescField;
  allowed: readonly string[];
}

const cache = new WeakMap<DescMessage, MaskField[]>();

/** The top-level FieldMask fields of `desc` that carry a `field_mask.in` rule. */
export function maskFieldsOf(desc: DescMessage): MaskField[] {
  let found = cache.get(desc);
  if (found) return found;
  found = [];
  for (const field of desc.fields) {
    if (field.fieldKind !== "message" || field.message.typeName !== "google.protobuf.FieldMask") continue;
    let allowed: readonly string[] = [];
    try {
      const rules = getOption(field, fieldRulesExt);
      if (rules?.type.case === "fieldMask") allowed = rules.type.value.in;
    } catch {
      allowed = [];
    }
    if (allowed.length > 0) found.push({ field, allowed });
  }
  cache.set(desc, found);
  return found;
}

/** A proto-name path (`profile.avatar_url`) as protobuf JSON spells it (`profile.avatarUrl`). */
export function jsonPath(path: string): string {
  return path
    .split(".")
    .map((part) => part.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()))
    .join(".");
}

/** `"updateMask": "a,b"` — the JSON form with the first two allowed paths, as an example to copy. */
export function jsonExample(mask: MaskField): string {
  return `"${mask.field.jsonName}": "${mask.allowed.slice(0, 2).map(jsonPath).join(",")}"`;
}

/** The paths of `paths` (proto names, as decoded) that `mask` does not allow. */
export function unknownPaths(mask: MaskField, paths: readonly string[]): string[] {
  return paths.filter((p) => !mask.allowed.includes(p));
}

/** The message for unknown paths, in the spelling of the caller's encoding. */
export function unknownPathsMessage(mask: MaskField, unknown: readonly string[], json: boolean): string {
  if (json) {
    return (
      `${mask.field.jsonName}: unknown path ${unknown.map((p) => `"${jsonPath(p)}"`).join(", ")}; ` +
      `allowed paths: ${mask.allowed.map(jsonPath).join(", ")} (one string, comma-separated, e.g. ${jsonExample(mask)})`
    );
  }
  return (
    `${mask.field.name}: unknown path ${unknown.map((p) => `"${p}"`).join(", ")}; allowed paths: ${mask.allowed.join(", ")} ` +
    `(in protobuf JSON, e.g. grpcurl -d, the mask is one lowerCamelCase string: ${jsonExample(mask)})`
  );
}

/**
 * The message for a JSON field mask the parser refused (an object such as `{"paths": […]}`, or snake_case paths),
 * showing the form that works. With several mask fields in one message the first is the example.
 */
export function jsonMaskFormMessage(desc: DescMessage): string | undefined {
  const mask = maskFieldsOf(desc)[0];
  if (!mask) return undefined;
  return (
    `${mask.field.jsonName}: in JSON a field mask is one string of lowerCamelCase paths separated by commas, ` +
    `e.g. ${jsonExample(mask)} (not {"paths": [...]}, not snake_case); allowed paths: ${mask.allowed.map(jsonPath).join(", ")}`
  );
}
