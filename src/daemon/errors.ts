/** A listen address is taken by another process. */
export class AddressInUseError extends Error {
  /** The address, `HOST:PORT`. */
  readonly address: string;
  /** Which server wanted it: `grpc` or `http`. */
  readonly server: string;

  /** Creates the error for a server and address. */
  constructor(server: string, address: string, options?: ErrorOptions) {
    const setting = server === "grpc" ? "ORCHESTRATOR_GRPC_ADDR (grpc_addr)" : "ORCHESTRATOR_HTTP_ADDR (http_addr)";
    super(
      `Cannot listen on ${address} for ${server}: the address is already in use. ` +
        `Stop the process using it, or choose another address with ${setting}.`,
      options,
    );
    this.name = "AddressInUseError";
    this.address = address;
    this.server = server;
  }
}

/** Another daemon already holds this state folder. */
export class DaemonAlreadyRunningError extends Error {
  /** The state folder. */
  readonly home: string;
  /** The other daemon's pid, if known. */
  readonly pid?: number;

  /** Creates the error for a state folder. */
  constructor(home: string, pid?: number) {
    super(
      `Cannot start the daemon: another daemon${pid ? ` (pid ${pid})` : ""} is already running for "${home}". ` +
        "Use it, stop it with `dspy-agent stop`, or set DSPY_AGENT_HOME to another folder.",
    );
    this.name = "DaemonAlreadyRunningError";
    this.home = home;
    this.pid = pid;
  }
}
