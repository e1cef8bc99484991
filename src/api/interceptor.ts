/**
 * The interceptors every RPC passes through: errors mapped to codes once, and streams cut by a shutdown ended
 * UNAVAILABLE.
 *
 * @module
 */
import { Code, ConnectError, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import type { Logger } from "../log/mod.ts";
import { toConnectError } from "./errors.ts";

/**
 * Maps every error a handler throws — before its answer or in the middle of a
 * stream — to a ConnectError through {@linkcode toConnectError}, and logs the
 * original for operators (clients only see the message and code).
 */
export function errorInterceptor(logger: Logger, shutdownSignal?: AbortSignal): Interceptor {
  const mapped = (method: string, err: unknown) => {
    const ce = toConnectError(err);
    if (ce !== err) {
      logger.warn("RPC failed", {
        method,
        code: ce.code,
        error: ce.cause ?? err,
      });
    }
    return ce;
  };
  return (next) => async (req) => {
    let res: UnaryResponse | StreamResponse;
    try {
      res = await next(req);
    } catch (err) {
      throw mapped(req.method.name, err);
    }
    if (!res.stream) return res;
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* inner;
        } catch (err) {
          throw mapped(req.method.name, err);
        }
        // A stream the daemon's shutdown ended is not finished: UNAVAILABLE tells the client to reconnect.
        if (shutdownSignal?.aborted) throw stoppingError();
      })(),
    } as StreamResponse;
  };
}

/** What a stream cut off by the daemon's shutdown ends with: UNAVAILABLE, so clients reconnect (not OK). */
export function stoppingError(): ConnectError {
  return new ConnectError("the daemon is stopping; reconnect once it is back", Code.Unavailable);
}
