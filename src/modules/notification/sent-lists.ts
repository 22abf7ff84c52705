/**
 * What the notification module tells online evaluation: the movies a digest or an alert put in front of a user (one
 * list per notification request that was new and queued something), and a tracked click on a movie link. Wired by
 * the server and worker from the evaluation module; the notification module never depends on it.
 *
 * A list counts when its notification is queued, not when it is delivered: a send that fails later still counts as
 * an impression (failures are rare and retried; waiting for the delivery would need the list again at send time).
 * `algorithm` names the list's source: `digest_picks` and `new_releases` in digests, the alert kind in alerts.
 */
export interface SentList {
  surface: "digest" | "alert";
  userId: string;
  /** The notification's idempotency key: re-queuing the same notification records nothing twice. */
  requestId: string;
  algorithm: string;
  movieIds: string[];
}

export interface NotificationEvaluationHooks {
  /** Buffers the list (no I/O). */
  sent?(list: SentList): void;
  /** A tracked click on a link to `movieId` in a notification sent to `userId`. */
  clicked?(userId: string, movieId: string): Promise<void>;
}

/** The movie id of a movie link (`<base>/movies/<id>`), or undefined. */
export function movieOfLink(url: string): string | undefined {
  return /\/movies\/([1-9][0-9]{0,18})(?:[/?#]|$)/.exec(url)?.[1];
}
