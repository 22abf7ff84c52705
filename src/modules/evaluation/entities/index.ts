/** Online-evaluation entities: experiments, serving defaults and shown impressions (migration 0014). */
import { ExperimentSchema } from "./experiment.entity.ts";
import { ImpressionSchema } from "./impression.entity.ts";
import { ServingDefaultSchema } from "./serving-default.entity.ts";

export {
  EXPERIMENT_STATUSES,
  Experiment,
  ExperimentSchema,
  SURFACES,
  type ExperimentStatus,
  type Surface,
  type VariantSpec,
} from "./experiment.entity.ts";
export { CONVERSION_TYPES, Impression, ImpressionSchema, type ConversionType } from "./impression.entity.ts";
export { ServingDefault, ServingDefaultSchema } from "./serving-default.entity.ts";

/** The evaluation module's entity schemas, for the ORM's `entities` option. */
export const evaluationEntities = [ExperimentSchema, ServingDefaultSchema, ImpressionSchema];
