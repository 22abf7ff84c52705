/**
 * Transport security settings (TLS_* and SERVICE_CERTS), read by config.ts. TLS is off unless both a certificate and
 * a key are configured: cleartext stays the default for local development and behind a TLS-terminating proxy.
 */

/** How a verified client certificate names an internal service: its SAN URI (e.g. SPIFFE) or its subject CN. */
export interface ServiceCertificate {
  /** Service name, as in SERVICE_TOKENS ([a-z0-9-]). */
  readonly name: string;
  readonly scopes: readonly string[];
  readonly match: { readonly kind: "uri" | "cn"; readonly value: string };
}

export interface TlsConfig {
  /** PEM certificate chain and private key of the server (TLS_CERT_FILE, TLS_KEY_FILE). */
  readonly certFile: string;
  readonly keyFile: string;
  /** Optional PEM bundle of intermediates sent after the certificate (TLS_CA_FILE). */
  readonly caFile: string | undefined;
  /** PEM bundle of the CAs that sign client certificates (TLS_CLIENT_CA_FILE); set = mutual TLS is on. */
  readonly clientCaFile: string | undefined;
  /**
   * With mutual TLS: `optional` lets clients without a certificate in (browsers; they authenticate with bearer
   * tokens), `required` refuses them during the handshake. A certificate that is presented must verify either way.
   */
  readonly clientCert: "optional" | "required";
  /** Identities of verified client certificates (SERVICE_CERTS). */
  readonly serviceCerts: readonly ServiceCertificate[];
  /** How often the certificate files are checked for changes; 0 turns the polling off (SIGHUP still reloads). */
  readonly reloadPollMs: number;
}

type Str = (name: string, fallback: string) => string;
type Int = (name: string, fallback: number, min: number, max: number) => number;

/**
 * SERVICE_CERTS = "name:scope+scope:uri=spiffe://movierec/ingest,name2:scope:cn=reporting". Only the first two ':'
 * separate fields, so URIs keep theirs.
 */
function parseServiceCerts(raw: string, problems: string[]): ServiceCertificate[] {
  const out: ServiceCertificate[] = [];
  for (const entry of raw.split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const first = entry.indexOf(":");
    const second = first < 0 ? -1 : entry.indexOf(":", first + 1);
    const name = entry.slice(0, Math.max(first, 0));
    const scopes = first < 0 || second < 0 ? "" : entry.slice(first + 1, second);
    const matcher = second < 0 ? "" : entry.slice(second + 1);
    const m = /^(uri|cn)=(.+)$/.exec(matcher);
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(name) || !/^[a-z.+]*$/.test(scopes) || !m) {
      problems.push("SERVICE_CERTS entries must be name:scope+scope:uri=<SAN URI> or name:scope+scope:cn=<subject CN>");
      continue;
    }
    out.push({ name, scopes: scopes.split("+").filter((s) => s !== ""), match: { kind: m[1] as "uri" | "cn", value: m[2]! } });
  }
  return out;
}

/** The TLS settings, or undefined when TLS is off; problems are appended to `problems`. */
export function loadTlsConfig(env: Readonly<Record<string, string | undefined>>, str: Str, int: Int, problems: string[]): TlsConfig | undefined {
  const certFile = str("TLS_CERT_FILE", "");
  const keyFile = str("TLS_KEY_FILE", "");
  const clientCaFile = str("TLS_CLIENT_CA_FILE", "");
  const clientCert = str("TLS_CLIENT_CERT", "optional");
  if (clientCert !== "optional" && clientCert !== "required") problems.push('TLS_CLIENT_CERT must be "optional" or "required"');
  const serviceCerts = parseServiceCerts(str("SERVICE_CERTS", ""), problems);
  const reloadPollMs = int("TLS_RELOAD_POLL_MS", 5000, 0, 3_600_000);
  if ((certFile === "") !== (keyFile === "")) {
    problems.push("TLS_CERT_FILE and TLS_KEY_FILE go together");
    return undefined;
  }
  if (certFile === "") {
    if (clientCaFile !== "" || serviceCerts.length > 0 || env.TLS_CA_FILE) problems.push("TLS_CA_FILE, TLS_CLIENT_CA_FILE and SERVICE_CERTS need TLS_CERT_FILE and TLS_KEY_FILE");
    return undefined;
  }
  if (serviceCerts.length > 0 && clientCaFile === "") problems.push("SERVICE_CERTS needs TLS_CLIENT_CA_FILE (client certificates are only trusted once verified)");
  return Object.freeze({
    certFile,
    keyFile,
    caFile: str("TLS_CA_FILE", "") || undefined,
    clientCaFile: clientCaFile || undefined,
    clientCert: clientCert === "required" ? "required" : "optional",
    serviceCerts,
    reloadPollMs,
  });
}
