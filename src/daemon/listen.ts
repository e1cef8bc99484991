/**
 * Binding a node server to `HOST:PORT`, with a busy address reported as AddressInUseError.
 *
 * @module
 */
import type { Server as NetServer } from "node:net";
import { AddressInUseError } from "./errors.ts";

/** A server listening on an address, closable gracefully. */
export interface ListeningServer {
  /** The bound address, `HOST:PORT` (the real port when 0 was asked for). */
  readonly address: string;
  /** Stops accepting, waits up to `graceMs` for open requests, then drops them. */
  close(graceMs: number): Promise<void>;
}

/** Splits `HOST:PORT` (IPv6 hosts in brackets). */
export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return {
    host: address.slice(0, i).replace(/^\[(.*)\]$/, "$1"),
    port: Number(address.slice(i + 1)),
  };
}

/** Binds a node server to an address, turning EADDRINUSE into {@linkcode AddressInUseError}. */
export function bind(
  server: NetServer,
  name: string,
  address: string,
): Promise<string> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(
        err.code === "EADDRINUSE" ? new AddressInUseError(name, address, { cause: err }) : err,
      );
    };
    const onListening = () => {
      server.off("error", onError);
      const bound = server.address();
      const realPort = typeof bound === "object" && bound ? bound.port : port;
      resolve(`${host.includes(":") ? `[${host}]` : host}:${realPort}`);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}
