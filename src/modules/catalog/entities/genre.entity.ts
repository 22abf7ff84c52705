/** `genres`: TMDb genres. */
import { defineEntity, p } from "@mikro-orm/core";

export const GenreSchema = defineEntity({
  name: "Genre",
  tableName: "genres",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    tmdbId: p.integer().unique(),
    name: p.string().length(100).unique(),
    slug: p.string().length(50).unique(),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class Genre extends GenreSchema.class {}
GenreSchema.setClass(Genre);
