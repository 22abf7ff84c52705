/**
 * How a provider failure is classified. Transient ones (connection refused, SMTP 4xx, push 429/5xx) are retried with
 * backoff; permanent ones (SMTP 5xx such as 550 no such user, push 404/410) fail the notification at once.
 */
export class DeliveryError extends Error {
  readonly permanent: boolean;
  /** The push token is gone: the device is deactivated. */
  readonly deviceGone: boolean;
  constructor(message: string, opts: { permanent: boolean; deviceGone?: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = "DeliveryError";
    this.permanent = opts.permanent;
    this.deviceGone = opts.deviceGone ?? false;
  }
}

/** An HTTP push answer: 429 and 5xx are worth retrying, 404/410 mean the token is gone, other 4xx are final. */
export function httpPushError(provider: string, status: number, detail: string, gone = false): DeliveryError {
  const message = `${provider} ${status}${detail ? `: ${detail.slice(0, 300)}` : ""}`;
  if (status === 429 || status >= 500 || status === 408) return new DeliveryError(message, { permanent: false });
  if (status === 401 || status === 403) return new DeliveryError(message, { permanent: false }); // credentials may be fixed
  return new DeliveryError(message, { permanent: true, deviceGone: gone || status === 404 || status === 410 });
}
