/** `persons`: actors, directors and other crew, from TMDb. */
import { defineEntity, p } from "@mikro-orm/core";

export const PersonSchema = defineEntity({
  name: "Person",
  tableName: "persons",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    tmdbId: p.integer().unique(),
    name: p.string().length(200),
    biography: p.text().default(""),
    /** `YYYY-MM-DD`. */
    birthday: p.date().nullable(),
    /** `YYYY-MM-DD`. */
    deathday: p.date().nullable(),
    placeOfBirth: p.string().length(200).default(""),
    profilePath: p.string().length(200).nullable(),
    /** Free text from TMDb ('Acting', 'Directing', 'Writing', 'Sound', …), so not restricted. */
    knownForDepartment: p.string().length(50),
    popularity: p.double().default(0),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class Person extends PersonSchema.class {}
PersonSchema.setClass(Person);
