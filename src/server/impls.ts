import type { AppDeps } from "./app-deps.ts";
import type { ApiImpls } from "./services.ts";

/**
 * Builds every service's handlers from the shared dependencies: the one place modules are
 * wired in. A service left `{}` answers UNIMPLEMENTED until its module lands.
 */
export function buildImpls(_deps: AppDeps): ApiImpls {
  return {
    user: {},
    catalog: {},
    recommendation: {},
    notification: {},
    analytics: {},
  };
}
