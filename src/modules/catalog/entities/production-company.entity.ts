/** `production_companies`: from TMDb. */
import { defineEntity, p } from "@mikro-orm/core";

export const ProductionCompanySchema = defineEntity({
  name: "ProductionCompany",
  tableName: "production_companies",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    tmdbId: p.integer().unique(),
    name: p.string().length(200),
    logoPath: p.string().length(200).nullable(),
    /** ISO 3166-1 code as TMDb gives it (may be ''). */
    originCountry: p.string().length(10),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class ProductionCompany extends ProductionCompanySchema.class {}
ProductionCompanySchema.setClass(ProductionCompany);
