/** AnalyticsService.ListAuditLog: protobuf <-> audit rows (query in audit-query.ts). Staff only (auth rules + here). */
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { MikroORM } from "@mikro-orm/postgresql";
import { AuditEntrySchema, type AnalyticsService } from "../../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { callerKey, requireStaff } from "../../platform/caller.ts";
import { listAuditRows } from "./audit-query.ts";

export function createAuditRpc(deps: { orm: MikroORM }): Pick<ServiceImpl<typeof AnalyticsService>, "listAuditLog"> {
  return {
    async listAuditLog(req, ctx) {
      requireStaff(ctx.values.get(callerKey));
      const { rows, nextPageToken } = await listAuditRows(
        deps.orm.em.fork(),
        {
          action: req.action || undefined,
          tableName: req.tableName || undefined,
          recordId: req.recordId || undefined,
          actorUserId: req.actorUserId || undefined,
          since: req.since ? timestampDate(req.since) : undefined,
          until: req.until ? timestampDate(req.until) : undefined,
        },
        { pageSize: req.pageSize, pageToken: req.pageToken },
      );
      return {
        entries: rows.map((r) =>
          create(AuditEntrySchema, {
            id: r.id,
            time: timestampFromDate(r.timestamp),
            action: r.action,
            tableName: r.tableName,
            operation: r.operation,
            recordId: r.recordId,
            actorType: r.actorType,
            actorUserId: r.actorUserId,
            actorName: r.actorName,
            clientAddress: r.clientAddress,
            requestId: r.requestId,
            oldValues: (r.oldValues ?? undefined) as JsonObject | undefined,
            newValues: (r.newValues ?? undefined) as JsonObject | undefined,
          }),
        ),
        nextPageToken,
      };
    },
  };
}
