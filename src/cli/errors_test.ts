import { assertEquals } from "../../tests/support/assert.ts";
import {
  CommandFailedError,
  DaemonExitedError,
  DaemonNotRunningError,
  describeFailure,
  ExitCode,
  ServicesFailedError,
  UsageError,
} from "./errors.ts";
import { DaemonCallError } from "../client/mod.ts";
import { ConfigError, ConfigErrors } from "../config/mod.ts";

Deno.test("describeFailure() maps each failure to its documented exit code", () => {
  const cases: [unknown, number][] = [
    [new UsageError("bad"), ExitCode.usage],
    [new ConfigErrors([new ConfigError("bad value", { file: "/x/config.toml", line: 3, key: "gpu" })]), ExitCode.usage],
    [new DaemonNotRunningError("127.0.0.1:50052"), ExitCode.daemonNotRunning],
    [
      new DaemonExitedError({ exitCode: 4, logTail: ["address in use"], logFile: "/x/daemon.log" }),
      ExitCode.addressInUse,
    ],
    [new DaemonExitedError({ exitCode: 2, logTail: [], logFile: "/x/daemon.log" }), ExitCode.usage],
    [new DaemonExitedError({ logTail: [], logFile: "/x/daemon.log", stage: "services" }), ExitCode.daemonNotRunning],
    [new ServicesFailedError([{ service: "redis", reason: "port 6379 is in use" }]), ExitCode.serviceFailed],
    [
      new DaemonCallError("p", "unavailable", "Cannot reach the Docker engine at unix:///x.sock", {
        reason: "DockerUnavailableError",
      }),
      ExitCode.dockerUnavailable,
    ],
    [new DaemonCallError("p", "unavailable", "cannot connect: Connection refused"), ExitCode.daemonNotRunning],
    [new DaemonCallError("p", "invalid_argument", "task id is empty"), ExitCode.usage],
    [new CommandFailedError("no", 6), 6],
    [new DOMException("aborted", "AbortError"), ExitCode.interrupted],
    [new Error("anything else"), ExitCode.failure],
    ["a string", ExitCode.failure],
  ];
  for (const [error, code] of cases) assertEquals(describeFailure(error).exitCode, code, String(error));
});

Deno.test("describeFailure() keeps the config error's location in the message and lists the rest", () => {
  const report = describeFailure(
    new ConfigErrors([
      new ConfigError("must be a boolean", { file: "/x/config.toml", line: 3, key: "gpu" }),
      new ConfigError("must be 1 to 64", { file: "/x/config.toml", line: 4, key: "max_concurrent" }),
    ]),
  );
  assertEquals(report.message, 'Invalid config "/x/config.toml", line 3, key "gpu": must be a boolean');
  assertEquals(report.details?.length, 1);
  assertEquals(typeof report.hint, "string");
});

Deno.test("describeFailure() shows a failed daemon's last log lines", () => {
  const report = describeFailure(
    new DaemonExitedError({ exitCode: 1, logTail: ["starting", "boom: cannot open store"], logFile: "/x/daemon.log" }),
  );
  assertEquals(report.message, "Cannot start the daemon: it exited with code 1: boom: cannot open store");
  assertEquals(report.details, ["starting", "boom: cannot open store"]);
  assertEquals(report.hint, "See the daemon log: /x/daemon.log");
});
