/**
 * Alerts: a high-scoring new recommendation, a trending movie, a new release in a favourite genre. Each goes out as
 * an email and a push (each behind its own preference switch, checked by the outbox), at most ALERTS_PER_USER_PER_DAY
 * per channel per rolling day, and once per user and movie (the idempotency key).
 */
import type { TemplateType } from "./entities/index.ts";
import type { NotificationEvaluationHooks } from "./sent-lists.ts";
import type { Outbox, QueueRequest, QueueResult, RequestKind } from "./outbox.ts";
import type { Template, TemplateStore } from "./templates.ts";

export interface AlertMovie {
  id: string;
  title: string;
  /** Recommendation score (0–1) when there is one. */
  score?: number;
}

const KINDS = {
  recommendation: { kind: "recommendation_alert", email: "email_recommendation", push: "push_recommendation" },
  trending: { kind: "trending_alert", email: "email_trending", push: "push_trending" },
  new_release: { kind: "new_release_alert", email: "email_new_release", push: "push_new_release" },
} as const satisfies Record<string, { kind: RequestKind; email: TemplateType; push: TemplateType }>;

export type AlertKind = keyof typeof KINDS;

export function createAlerts(deps: { outbox: Outbox; templates: TemplateStore; movieUrl: (id: string) => string; minScore: number; evaluation?: NotificationEvaluationHooks }) {
  const template = async (type: TemplateType): Promise<Template | undefined> => deps.templates.activeOfType(type).catch(() => undefined);

  return {
    /**
     * Queues an alert about `movie` for each user (email and push). Recommendation alerts below `minScore` are
     * ignored. Channels without an active template are skipped. Results by idempotency key.
     */
    async send(kind: AlertKind, userIds: readonly string[], movie: AlertMovie): Promise<Map<string, QueueResult>> {
      if (kind === "recommendation" && (movie.score ?? 0) < deps.minScore) return new Map();
      const k = KINDS[kind];
      const requests: QueueRequest[] = [];
      for (const channel of ["email", "push"] as const) {
        const t = await template(k[channel]);
        if (!t) continue;
        for (const userId of userIds) {
          requests.push({
            idempotencyKey: `${k.kind}:${userId}:${movie.id}:${channel}`,
            userId,
            kind: k.kind,
            template: t,
            data: { movie: { ...movie, url: deps.movieUrl(movie.id) } },
            link: deps.movieUrl(movie.id),
          });
        }
      }
      const results = await deps.outbox.queue(requests);
      // Each alert queued is an impression of its movie, per channel (an email and a push are two things shown).
      for (const req of requests) {
        const r = results.get(req.idempotencyKey);
        if (r && !r.duplicate && r.logs.length > 0) deps.evaluation?.sent?.({ surface: "alert", userId: req.userId, requestId: req.idempotencyKey, algorithm: kind, movieIds: [movie.id] });
      }
      return results;
    },
  };
}

export type Alerts = ReturnType<typeof createAlerts>;
