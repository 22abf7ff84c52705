import { createContextKey } from "@connectrpc/connect";

/**
 * The client's network address (the TCP peer of the request, as the server saw it), put on the request context by
 * the server so that modules can rate-limit or anonymise it without touching the HTTP layer. Undefined when unknown.
 * Behind a proxy this is the proxy's address: forwarded headers are not trusted (nothing configures trusted proxies yet).
 */
export const remoteAddressKey = createContextKey<string | undefined>(undefined, { description: "client address" });
