/**
 * A plain-text HTTP/2 server for the gRPC port: connections, streams under
 * flow control, HPACK.
 *
 * @module
 */

export { type Http2Server, type Http2ServerOptions, serveHttp2 } from "./server.ts";
export { Http2ServerStream, StreamClosedError } from "./stream.ts";
export { ErrorCode } from "./frames.ts";
