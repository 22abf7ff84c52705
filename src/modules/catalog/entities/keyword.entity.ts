/** `keywords`: TMDb keywords (not in the design; migration 0002 explains why we keep them). */
import { defineEntity, p } from "@mikro-orm/core";

export const KeywordSchema = defineEntity({
  name: "Keyword",
  tableName: "keywords",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    tmdbId: p.integer().unique(),
    name: p.string().length(200),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class Keyword extends KeywordSchema.class {}
KeywordSchema.setClass(Keyword);
