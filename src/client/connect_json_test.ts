import { create, toBinary } from "@bufbuild/protobuf";
import { assertEquals } from "../../tests/support/assert.ts";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.ts";
import { errorReason } from "./connect_json.ts";

Deno.test("errorReason() reads the reason of a google.rpc.ErrorInfo detail, as Connect JSON carries it", () => {
  const value = toBinary(
    ErrorInfoSchema,
    create(ErrorInfoSchema, { reason: "DockerUnavailableError", domain: "dspy-agent", metadata: { a: "b" } }),
  );
  const b64 = btoa(String.fromCharCode(...value));
  assertEquals(errorReason([{ type: "google.rpc.ErrorInfo", value: b64 }]), "DockerUnavailableError");
  assertEquals(
    errorReason([{ type: "google.rpc.ErrorInfo", value: b64.replace(/=+$/, "") }]),
    "DockerUnavailableError",
  );
  assertEquals(errorReason([{ type: "other.Detail", value: b64 }]), undefined);
  assertEquals(errorReason(undefined), undefined);
});
