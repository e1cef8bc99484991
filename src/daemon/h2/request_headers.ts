/**
 * The rules a request's header block must follow (RFC 9113 §8.2, §8.3): a request that breaks one is malformed and
 * ends with a stream error of type PROTOCOL_ERROR, before any handler sees it.
 *
 * @module
 */

/** The request pseudo-headers a server accepts (RFC 9113 §8.3.1); `:protocol` belongs to extended CONNECT, unused here. */
const REQUEST_PSEUDO = new Set([":method", ":scheme", ":path", ":authority"]);

/** Header fields that are specific to an HTTP/1.1 connection and never valid in HTTP/2 (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/** Returns why a request's header fields are malformed, or undefined when they are well-formed. */
export function malformedRequest(fields: readonly [string, string][]): string | undefined {
  const seen = new Set<string>();
  let regular = false;
  for (const [name, value] of fields) {
    if (name !== name.toLowerCase()) return `header name "${name}" has uppercase letters`;
    if (name.startsWith(":")) {
      if (regular) return `pseudo-header ${name} after a regular header`;
      if (!REQUEST_PSEUDO.has(name)) return `unknown or response pseudo-header ${name}`;
      if (seen.has(name)) return `pseudo-header ${name} repeated`;
      if (name === ":path" && value === "") return ":path is empty";
      seen.add(name);
      continue;
    }
    regular = true;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific header ${name}`;
    if (name === "te" && value.trim().toLowerCase() !== "trailers") return `te: ${value} (only "trailers" is allowed)`;
  }
  for (const required of [":method", ":scheme", ":path"]) {
    if (!seen.has(required)) return `${required} is missing`;
  }
  return undefined;
}

/** Returns why request trailers are malformed, or undefined when they are well-formed (RFC 9113 §8.1). */
export function malformedTrailers(fields: readonly [string, string][]): string | undefined {
  for (const [name] of fields) {
    if (name.startsWith(":")) return `pseudo-header ${name} in trailers`;
    if (name !== name.toLowerCase()) return `header name "${name}" has uppercase letters`;
  }
  return undefined;
}

/**
 * The request's declared body length, from `content-length`; undefined when absent. Throws nothing: a value that is
 * not a decimal number reads as NaN, which no body length equals, so the request is refused as malformed.
 */
export function declaredLength(headers: Record<string, string>): number | undefined {
  const value = headers["content-length"];
  if (value === undefined) return undefined;
  return /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : NaN;
}
