/**
 * `recommendation_impressions` (migration 0014): one row per item of a list a user was really shown, with the
 * outcomes attributed to it. Written in batches by the impression recorder, never one row per request.
 */
import { defineEntity, p } from "@mikro-orm/core";
import { Movie } from "../../catalog/entities/index.ts";
import { User } from "../../user/entities/index.ts";
import { Experiment, SURFACES } from "./experiment.entity.ts";

export const CONVERSION_TYPES = ["view", "like", "rating", "favorite", "watchlist"] as const;
export type ConversionType = (typeof CONVERSION_TYPES)[number];

export const ImpressionSchema = defineEntity({
  name: "Impression",
  tableName: "recommendation_impressions",
  uniques: [{ properties: ["requestKey", "position"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    /** Surface, caller and request id: a retried request records nothing twice. */
    requestKey: p.string().length(200),
    user: () => p.manyToOne(User).ref().nullable().deleteRule("cascade"),
    movie: () => p.manyToOne(Movie).ref().deleteRule("cascade"),
    surface: p.enum(SURFACES).columnType("varchar(20)"),
    algorithm: p.string().length(50),
    experiment: () => p.manyToOne(Experiment).ref().nullable().deleteRule("set null"),
    variant: p.string().length(50).nullable(),
    position: p.integer(),
    shownAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    clickedAt: p.datetime().nullable(),
    convertedAt: p.datetime().nullable(),
    conversionType: p.enum(CONVERSION_TYPES).columnType("varchar(20)").nullable(),
  },
});

export class Impression extends ImpressionSchema.class {}
ImpressionSchema.setClass(Impression);
