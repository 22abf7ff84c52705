/** `serving_defaults` (migration 0014): the algorithm a surface serves when no algorithm is asked for and no experiment runs. */
import { defineEntity, p } from "@mikro-orm/core";
import { Experiment } from "./experiment.entity.ts";
import { SURFACES } from "./experiment.entity.ts";

export const ServingDefaultSchema = defineEntity({
  name: "ServingDefault",
  tableName: "serving_defaults",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    surface: p.enum(SURFACES).columnType("varchar(20)").unique(),
    algorithm: p.string().length(50),
    /** The experiment whose promoted variant set it. */
    experiment: () => p.manyToOne(Experiment).ref().nullable().deleteRule("set null"),
    variant: p.string().length(50).nullable(),
    updatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class ServingDefault extends ServingDefaultSchema.class {}
ServingDefaultSchema.setClass(ServingDefault);
