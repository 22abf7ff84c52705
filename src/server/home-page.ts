/**
 * `GET /`: a short page for a person who opens the API's address in a browser, instead of a bare 404. It says
 * what answers on this port and links the plain HTTP endpoints; RPCs themselves need a client (grpcurl, curl
 * with JSON, Connect-Web), so the page shows one ready-to-paste call.
 */
import type { ServerResponse } from "node:http";

export interface HomeLink {
  href: string;
  label: string;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page's HTML for the given links (the console, health, metrics — whichever this server has). */
export function homePageHtml(links: readonly HomeLink[], host: string): string {
  const items = links.map((l) => `<li><a href="${escape(l.href)}">${escape(l.label)}</a> <code>${escape(l.href)}</code></li>`).join("\n");
  const curl = `curl -s -X POST http://${host}/grpc.health.v1.Health/Check -H 'content-type: application/json' -d '{}'`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>movierec API</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .25rem}</style>
</head><body>
<h1>movierec API</h1>
<p>This port speaks gRPC, gRPC-Web and Connect (HTTP + JSON). List the services with
<code>grpcurl -plaintext ${escape(host)} list</code>, or try:</p>
<pre><code>${escape(curl)}</code></pre>
<ul>
${items}
</ul>
</body></html>
`;
}

export function sendHomePage(res: ServerResponse, links: readonly HomeLink[], host: string): void {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(homePageHtml(links, host));
}
