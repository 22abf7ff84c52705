/** `rescore_requests` (migration 0011): the rescoring outbox, one row per user whose list must be rescored. */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../../user/entities/index.ts";

export const RescoreRequestSchema = defineEntity({
  name: "RescoreRequest",
  tableName: "rescore_requests",
  indexes: [{ name: "idx_rescore_requests_requested", properties: ["requestedAt"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.oneToOne(User).owner().ref().unique("rescore_requests_user_id_key").deleteRule("cascade"),
    requestedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class RescoreRequest extends RescoreRequestSchema.class {}
RescoreRequestSchema.setClass(RescoreRequest);
