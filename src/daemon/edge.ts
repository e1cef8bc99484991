/**
 * The browser rules at the daemon's edge, checked before any route runs on either port: who may send a request
 * (Host, against DNS rebinding), from which page (Origin, against cross-site requests), with what body (no "simple"
 * content types, which browsers send cross-site without asking), and the per-daemon page token that a page served by
 * the daemon itself sends with its mutating calls. `docs/security.md` explains each rule and the attack it stops.
 *
 * Non-browser clients (curl, Python, the CLI) send no `Origin` and a JSON or protobuf content type, so they pass
 * unchanged.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import { Code } from "@connectrpc/connect";

/** The header that carries the page token on mutating requests from a browser. */
export const PAGE_TOKEN_HEADER = "x-dspy-agent-page-token";

/** Options of {@linkcode createEdgePolicy}. */
export interface EdgePolicyOptions {
  /** Host names (without port) besides loopback names and IP literals that may appear in `Host`. @default {[]} */
  allowedHosts?: string[];
  /** Origins (`scheme://host[:port]`) allowed to call from another site (CORS). @default {[]} */
  corsOrigins?: string[];
  /** The per-daemon secret pages of the daemon's own origin send in {@linkcode PAGE_TOKEN_HEADER}. */
  pageToken: string;
  /** Whether `Host` is checked: on for the HTTP port; the gRPC port is plain-text HTTP/2 or TLS, which no rebinding page reaches. @default {true} */
  checkHost?: boolean;
}

/** The edge rules of one listener. */
export interface EdgePolicy {
  readonly allowedHosts: ReadonlySet<string>;
  readonly corsOrigins: ReadonlySet<string>;
  readonly pageToken: string;
  readonly checkHost: boolean;
}

/** What the edge needs of a request: its method and a header lookup by lowercase name. */
export interface EdgeRequest {
  method: string;
  header(name: string): string | undefined;
}

/** A refusal: the HTTP status, a gRPC code for gRPC callers, and a message naming the problem and the fix. */
export interface EdgeRefusal {
  status: 403 | 415 | 421;
  /** The gRPC code for gRPC callers. */
  grpcCode: Code.PermissionDenied | Code.InvalidArgument;
  message: string;
}

/** Builds the edge rules of one listener. */
export function createEdgePolicy(options: EdgePolicyOptions): EdgePolicy {
  return {
    allowedHosts: new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase())),
    corsOrigins: new Set((options.corsOrigins ?? []).map((o) => o.toLowerCase().replace(/\/$/, ""))),
    pageToken: options.pageToken,
    checkHost: options.checkHost ?? true,
  };
}

/** Methods that change nothing: browsers may send them from anywhere, and their answers stay unreadable cross-site. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Content types a request body may have. All need a CORS preflight from another site, unlike the "simple" ones
 * (`text/plain`, `application/x-www-form-urlencoded`, `multipart/form-data`) a cross-site form or fetch sends freely.
 */
const BODY_TYPES =
  /^application\/(json|proto|connect\+(json|proto)|grpc(\+(proto|json))?|grpc-web(\+(proto|json))?|grpc-web-text(\+proto)?)\s*(;|$)/i;

/** Checks a request against the edge rules; undefined when it may proceed. */
export function checkEdge(policy: EdgePolicy, req: EdgeRequest): EdgeRefusal | undefined {
  const host = req.header("host") ?? req.header(":authority");
  if (policy.checkHost && !hostAllowed(policy, host)) {
    return {
      status: 421,
      grpcCode: Code.PermissionDenied,
      message: `Refused a request for host "${clip(host ?? "")}": it is not a name of this daemon ` +
        `(DNS rebinding protection). If you reach the daemon by that name, add it to [http] allowed_hosts in config.toml.`,
    };
  }
  const method = req.method.toUpperCase();
  if (SAFE_METHODS.has(method)) return undefined;
  const origin = req.header("origin");
  if (origin !== undefined && !sameOrigin(origin, host) && !policy.corsOrigins.has(origin.toLowerCase())) {
    return {
      status: 403,
      grpcCode: Code.PermissionDenied,
      message: `Refused a ${method} from the page origin "${clip(origin)}": cross-site requests may not change ` +
        `anything. To allow that origin, add it to [http] cors_origins in config.toml.`,
    };
  }
  if (req.header("sec-fetch-site") === "cross-site" && origin === undefined) {
    return {
      status: 403,
      grpcCode: Code.PermissionDenied,
      message: "Refused a cross-site request without an Origin header.",
    };
  }
  if (method === "POST" && !BODY_TYPES.test(req.header("content-type") ?? "")) {
    return {
      status: 415,
      grpcCode: Code.InvalidArgument,
      message: `Refused a POST with content type "${clip(req.header("content-type") ?? "(none)")}": send ` +
        `application/json (or a protobuf, gRPC or Connect type).`,
    };
  }
  // A browser page of an allowed origin (the daemon's own pages, or a configured one) proves it may act with the
  // page token, which only such a page can read.
  if (origin !== undefined && !tokenMatches(req.header(PAGE_TOKEN_HEADER), policy.pageToken)) {
    return {
      status: 403,
      grpcCode: Code.PermissionDenied,
      message: `Refused a ${method} from a browser page without a valid ${PAGE_TOKEN_HEADER} header: ` +
        `open the dashboard from the daemon's own address (dspy-agent dashboard), which supplies it.`,
    };
  }
  return undefined;
}

/** The CORS answer headers for a request from an allowed cross-site origin; empty otherwise. */
export function corsHeaders(policy: EdgePolicy, origin: string | undefined): Record<string, string> {
  if (origin === undefined || !policy.corsOrigins.has(origin.toLowerCase())) return {};
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET, POST",
    "access-control-allow-headers":
      `content-type, authorization, connect-protocol-version, connect-timeout-ms, grpc-timeout, x-grpc-web, x-user-agent, ${PAGE_TOKEN_HEADER}`,
    "access-control-expose-headers": "grpc-status, grpc-message, grpc-status-details-bin",
    "access-control-max-age": "600",
    vary: "origin",
  };
}

function hostAllowed(policy: EdgePolicy, host: string | undefined): boolean {
  // HTTP/1.1 requires Host (RFC 9112 §3.2); a request without one is refused.
  if (!host) return false;
  const name = hostName(host);
  if (name === undefined) return false;
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  // An IP literal cannot be rebound: a page whose origin is this address was served by this address.
  if (isIpLiteral(name)) return true;
  return policy.allowedHosts.has(name);
}

/** The lowercase host name of a `Host` value (`name`, `name:port`, `[v6]:port`); undefined when malformed. */
export function hostName(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 0 ? h.slice(1, end) : undefined;
  }
  const name = h.replace(/:\d{1,5}$/, "");
  return /^[a-z0-9.-]{1,253}$/.test(name) ? name : undefined;
}

function isIpLiteral(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(":");
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Shortens a value echoed in a message, so a huge header is not sent back whole. */
function clip(value: string): string {
  return value.length <= 80 ? value : `${value.slice(0, 80)}… (${value.length} characters)`;
}
