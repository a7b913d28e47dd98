/**
 * Which Host and Origin values this server answers to, against DNS rebinding and cross-site
 * requests (a web page the user visits must not drive Laneboard).
 *
 * - Host: the loopback names (`localhost`, `127.0.0.0/8`, `::1`), the bound address (every local
 *   interface address when bound to `0.0.0.0` / `::`), and the hosts given with `--allowed-host`.
 *   The port is not compared: a rebinding attack changes the name, and a proxy may change the port.
 * - Origin (state-changing requests and Socket.IO handshakes): absent, or the server's own origin
 *   (`http(s)://` + the request's Host, port included), or one whose host is an allowed host.
 *   `Origin: null` (sandboxed frames, `file:` pages, some redirects) is never accepted.
 * - `Sec-Fetch-Site: cross-site` is refused on the same requests, whatever the Origin says.
 */
import type { IncomingHttpHeaders } from "node:http";
import os from "node:os";

export interface OriginPolicyOptions {
  /** The address the server is bound to (`--host`). */
  bindHost: string;
  /** Extra host names (`--allowed-host`), e.g. the name a TLS proxy forwards. */
  allowedHosts?: readonly string[];
}

/** The reason a request is refused, or null when it may proceed. */
export type Verdict = string | null;

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0"]);

/** `Host` header → lower-case host name without port or brackets (`[::1]:3000` → `::1`), or null if malformed. */
export function hostnameOf(host: string): string | null {
  const h = host.trim().toLowerCase();
  if (!h) return null;
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    if (end < 0 || (end + 1 < h.length && !/^:\d{1,5}$/.test(h.slice(end + 1)))) return null;
    return h.slice(1, end);
  }
  const m = /^([a-z0-9._-]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]!.replace(/\.$/, "") : null;
}

/** True for a loopback host name or address (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`, brackets allowed). */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host) ?? host;
  return name === "localhost" || name.endsWith(".localhost") || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}

/** True for an address that binds every interface (`0.0.0.0`, `::`). */
export function isWildcardHost(host: string): boolean {
  return WILDCARDS.has(host.trim().toLowerCase());
}

export class OriginPolicy {
  readonly #hosts: ReadonlySet<string>;
  readonly #extra: ReadonlySet<string>;

  constructor(opts: OriginPolicyOptions) {
    this.#extra = new Set((opts.allowedHosts ?? []).map((h) => hostnameOf(h) ?? h.toLowerCase()));
    const bound = hostnameOf(opts.bindHost) ?? opts.bindHost.toLowerCase();
    const hosts = new Set<string>(this.#extra);
    if (isWildcardHost(opts.bindHost)) {
      for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) hosts.add(a.address.toLowerCase());
    } else {
      hosts.add(bound);
    }
    this.#hosts = hosts;
  }

  /** True when `host` (a Host header) names this server. */
  allowsHost(host: string | undefined): boolean {
    const name = host === undefined ? null : hostnameOf(host);
    return name !== null && (isLoopbackHost(name) || this.#hosts.has(name));
  }

  /** True when `origin` is this server's own origin for a request with `host`, or an allowed host's. */
  allowsOrigin(origin: string, host: string | undefined): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // includes "null"
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== origin.toLowerCase().replace(/\/$/, "")) return false;
    if (host !== undefined && url.host === host.trim().toLowerCase()) return true;
    return this.#extra.has(hostnameOf(url.host) ?? "");
  }

  /** Host check for any request: null, or why it is refused (→ 403). */
  checkHost(headers: IncomingHttpHeaders): Verdict {
    return this.allowsHost(headers.host) ? null : `this server does not answer to Host ${JSON.stringify(headers.host ?? "")} (add it with --allowed-host if it is yours)`;
  }

  /** Origin and Sec-Fetch-Site check for state-changing requests and socket handshakes (→ 403). */
  checkOrigin(headers: IncomingHttpHeaders): Verdict {
    if (headers["sec-fetch-site"] === "cross-site") return "cross-site requests are refused";
    const origin = headers.origin;
    if (origin !== undefined && !this.allowsOrigin(origin, headers.host)) return `requests from origin ${JSON.stringify(origin)} are refused`;
    return null;
  }

  /** Both checks, for a Socket.IO handshake. */
  checkHandshake(headers: IncomingHttpHeaders): Verdict {
    return this.checkHost(headers) ?? this.checkOrigin(headers);
  }
}
