/**
 * Certificates made at test time with Debian's openssl: P-256 keys, a CA, and leaf certificates signed by it.
 * Nothing is committed: every run has fresh keys in its own temp folder.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pem {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), "movierec-pki-"));

  #openssl(args: string[]): void {
    execFileSync("openssl", args, { cwd: this.dir, stdio: ["ignore", "ignore", "pipe"] });
  }

  #read(name: string): Pem {
    const certFile = join(this.dir, `${name}.crt`);
    const keyFile = join(this.dir, `${name}.key`);
    return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
  }

  /** A self-signed CA named `name`. */
  ca(name: string): Pem {
    this.#openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
      "-subj", `/CN=${name}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      "-keyout", `${name}.key`, "-out", `${name}.crt`]);
    return this.#read(name);
  }

  /** A leaf certificate signed by `ca`, with subject CN `cn` and the given subjectAltName (e.g. "DNS:localhost,IP:127.0.0.1"). */
  leaf(name: string, ca: Pem, cn: string, san: string, usage: "serverAuth" | "clientAuth"): Pem {
    writeFileSync(join(this.dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`);
    this.#openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${cn}`,
      "-keyout", `${name}.key`, "-out", `${name}.csr`]);
    this.#openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial",
      "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.crt`]);
    return this.#read(name);
  }
}
