/**
 * Templates (staff): stored per type; syntax is checked on save. Sending picks a template by id or the active
 * template of a type (the most recently updated one when several are active).
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { ConflictError, InvalidInputError, NotFoundError } from "../../platform/errors.ts";
import { recordAudit } from "../audit/index.ts";
import { TEMPLATE_TYPES, type TemplateType } from "./entities/index.ts";
import { decodePageToken, encodePageToken, pageSize } from "./cursor.ts";
import { checkTemplateSyntax } from "./template-engine.ts";

export interface Template {
  id: string;
  name: string;
  templateType: TemplateType;
  subject: string;
  htmlContent: string;
  textContent: string;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type TemplateFields = Omit<Template, "id" | "createdAt" | "updatedAt">;

/** Email or push, from the type's prefix. */
export function channelOf(type: TemplateType): "email" | "push" {
  return type.startsWith("push_") ? "push" : "email";
}

type Row = Record<string, unknown>;
const toTemplate = (r: Row): Template => ({
  id: String(r.id),
  name: r.name as string,
  templateType: r.template_type as TemplateType,
  subject: r.subject as string,
  htmlContent: r.html_content as string,
  textContent: r.text_content as string,
  isActive: r.is_active as boolean,
  createdAt: new Date(r.created_at as string),
  updatedAt: new Date(r.updated_at as string),
});

/** Rules the API's field validation cannot see: per-channel parts and template syntax. */
export function validateTemplate(t: TemplateFields): void {
  if (!(TEMPLATE_TYPES as readonly string[]).includes(t.templateType)) throw new InvalidInputError("unknown template type", "template.template_type");
  if (t.name.trim() === "") throw new InvalidInputError("is required", "template.name");
  if (t.textContent.trim() === "") throw new InvalidInputError("is required", "template.text_content");
  if (channelOf(t.templateType) === "push" && t.htmlContent !== "") throw new InvalidInputError("push templates have no HTML part", "template.html_content");
  if (channelOf(t.templateType) === "email" && t.subject.trim() === "") throw new InvalidInputError("emails need a subject", "template.subject");
  checkTemplateSyntax({ subject: t.subject, html: t.htmlContent, text: t.textContent });
}

/** The audited columns of a template (its content included: templates hold no personal data). */
const auditFields = (t: Template): Record<string, unknown> => ({
  name: t.name,
  template_type: t.templateType,
  subject: t.subject,
  html_content: t.htmlContent,
  text_content: t.textContent,
  is_active: t.isActive,
});

/** Only the fields that differ, before and after. */
function changedFields(before: Record<string, unknown>, after: Record<string, unknown>) {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const k of Object.keys(after)) if (before[k] !== after[k]) ((b[k] = before[k]), (a[k] = after[k]));
  return { before: b, after: a };
}

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === "23505" || /unique|duplicate key/i.test((e as Error).message ?? "");

export function createTemplates(deps: { orm: MikroORM; redis: Redis }) {
  const get = async (id: string): Promise<Template> => {
    const rows = await deps.orm.em.fork().execute<Row[]>("select * from notification_templates where id = ?", [id]);
    if (!rows[0]) throw new NotFoundError("template", id);
    return toTemplate(rows[0]);
  };
  const requestKey = (requestId: string) => `notification:template-request:${requestId}`;

  return {
    get,

    /** The active template of a type, or NOT_FOUND (FAILED_PRECONDITION would hide which type is missing). */
    async activeOfType(type: TemplateType): Promise<Template> {
      const rows = await deps.orm.em.fork().execute<Row[]>(
        "select * from notification_templates where template_type = ? and is_active order by updated_at desc, id desc limit 1",
        [type],
      );
      if (!rows[0]) throw new NotFoundError(`active ${type} template`);
      return toTemplate(rows[0]);
    },

    /** Creates a template; a repeated `requestId` (kept a day) returns the first result. */
    async create(fields: TemplateFields, requestId = ""): Promise<Template> {
      validateTemplate(fields);
      if (requestId !== "") {
        const seen = await deps.redis.get(requestKey(requestId));
        if (seen) return get(seen);
      }
      try {
        const created = await deps.orm.em.fork().transactional(async (tx) => {
          const rows = await tx.execute<Row[]>(
            `insert into notification_templates (name, template_type, subject, html_content, text_content, is_active)
             values (?, ?, ?, ?, ?, ?) returning *`,
            [fields.name, fields.templateType, fields.subject, fields.htmlContent, fields.textContent, fields.isActive],
          );
          const t = toTemplate(rows[0]!);
          await recordAudit(tx, { action: "template.create", table: "notification_templates", operation: "INSERT", recordId: t.id, after: auditFields(t) });
          return t;
        });
        if (requestId !== "") await deps.redis.set(requestKey(requestId), created.id, "EX", 86_400);
        return created;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        // A concurrent retry of the same request may have won the insert.
        const seen = requestId !== "" ? await deps.redis.get(requestKey(requestId)) : null;
        if (seen) return get(seen);
        throw new ConflictError(`a template named ${JSON.stringify(fields.name)} exists`);
      }
    },

    /** Changes the given fields, re-validating the result as a whole. */
    async update(id: string, patch: Partial<TemplateFields>): Promise<Template> {
      const current = await get(id);
      const next: TemplateFields = { ...current, ...patch };
      validateTemplate(next);
      try {
        return await deps.orm.em.fork().transactional(async (tx) => {
          const rows = await tx.execute<Row[]>(
            `update notification_templates set name = ?, template_type = ?, subject = ?, html_content = ?, text_content = ?,
               is_active = ?, updated_at = now() where id = ? returning *`,
            [next.name, next.templateType, next.subject, next.htmlContent, next.textContent, next.isActive, id],
          );
          if (!rows[0]) throw new NotFoundError("template", id);
          const updated = toTemplate(rows[0]);
          const { before, after } = changedFields(auditFields(current), auditFields(updated));
          await recordAudit(tx, { action: "template.update", table: "notification_templates", operation: "UPDATE", recordId: id, before, after });
          return updated;
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`a template named ${JSON.stringify(next.name)} exists`);
        throw e;
      }
    },

    /** By name; optional type and active filters. */
    async list(req: { pageSize: number; pageToken: string; templateType?: TemplateType; isActive?: boolean }): Promise<{ templates: Template[]; nextPageToken: string }> {
      const size = pageSize(req.pageSize);
      const after = decodePageToken(req.pageToken, ["text"]);
      const where: string[] = [];
      const params: unknown[] = [];
      if (req.templateType) (where.push("template_type = ?"), params.push(req.templateType));
      if (req.isActive !== undefined) (where.push("is_active = ?"), params.push(req.isActive));
      if (after) (where.push("name > ?"), params.push(after[0]));
      const rows = await deps.orm.em.fork().execute<Row[]>(
        `select * from notification_templates ${where.length ? `where ${where.join(" and ")}` : ""} order by name limit ?`,
        [...params, size + 1],
      );
      const templates = rows.slice(0, size).map(toTemplate);
      return { templates, nextPageToken: rows.length > size ? encodePageToken([templates[templates.length - 1]!.name]) : "" };
    },

    /** Deletes; past notifications keep their rendered content (template_id becomes null). */
    async delete(id: string): Promise<void> {
      await deps.orm.em.fork().transactional(async (tx) => {
        const rows = await tx.execute<Row[]>("delete from notification_templates where id = ? returning *", [id]);
        if (rows.length === 0) throw new NotFoundError("template", id);
        await recordAudit(tx, { action: "template.delete", table: "notification_templates", operation: "DELETE", recordId: id, before: auditFields(toTemplate(rows[0]!)) });
      });
    },
  };
}

export type TemplateStore = ReturnType<typeof createTemplates>;
