/**
 * The built-in service definitions: the old registry of docs/compatibility.md §6.
 *
 * Services whose images the user's own project builds (reddb, infermesh-*) are defined but disabled, so the
 * defaults work on a fresh machine. Enabled by default: redis only; the old default also
 * enabled reddb and infermesh-router, which cannot start without the user's own images.
 *
 * @module
 */
import type { ServiceConfig } from "../../config/mod.ts";

/** A built-in service: a config table with every field the registry needs, plus a hint for user-built images. */
export interface BuiltinService extends ServiceConfig {
  /** The image reference. */
  image: string;
  /** How a user provides the image when their own project builds it. */
  imageHint?: string;
}

const INFERMESH_IMAGE = "dspy-agent/infermesh:latest";
const INFERMESH_HINT =
  `build it in your project with "docker build -t ${INFERMESH_IMAGE} ." or set services.<name>.image in config.toml`;

/** Returns the built-in definitions by service name (a fresh object each call, safe to modify). */
export function builtinServices(): Record<string, BuiltinService> {
  return {
    redis: {
      image: "redis:7-alpine",
      ports: ["6379:6379"],
      enabled: true,
      required: true,
      restart: "on-failure",
      health: { kind: "redis", port: 6379 },
    },
    reddb: {
      image: "dspy-agent/reddb:latest",
      imageHint:
        `build it in your project with "docker build -t dspy-agent/reddb:latest ." or set services.reddb.image in config.toml`,
      ports: ["8082:8080"],
      enabled: false,
      required: true,
      restart: "on-failure",
      health: { kind: "http", port: 8080, path: "/health" },
    },
    ollama: {
      image: "ollama/ollama",
      ports: ["11435:11434"],
      volumes: ["ollama_models:/root/.ollama"],
      enabled: false,
      required: false,
      restart: "on-failure",
      health: { kind: "http", port: 11434, path: "/api/tags" },
    },
    "infermesh-node-a": infermeshNode("node-a"),
    "infermesh-node-b": infermeshNode("node-b"),
    "infermesh-router": {
      image: INFERMESH_IMAGE,
      imageHint: INFERMESH_HINT,
      command: ["router", "--port", "9000"],
      env: { NODES: "http://infermesh-node-a:9000,http://infermesh-node-b:9000" },
      ports: ["19000:9000"],
      dependsOn: ["infermesh-node-a", "infermesh-node-b"],
      enabled: false,
      required: true,
      restart: "on-failure",
      health: { kind: "http", port: 9000, path: "/health" },
    },
    zookeeper: {
      image: "confluentinc/cp-zookeeper:7.5.0",
      env: { ZOOKEEPER_CLIENT_PORT: "2181", ZOOKEEPER_TICK_TIME: "2000" },
      ports: ["2181:2181"],
      enabled: false,
      required: false,
      restart: "on-failure",
      health: { kind: "tcp", port: 2181 },
    },
    kafka: {
      image: "confluentinc/cp-kafka:7.5.0",
      env: {
        KAFKA_BROKER_ID: "1",
        KAFKA_ZOOKEEPER_CONNECT: "zookeeper:2181",
        KAFKA_LISTENERS: "INTERNAL://0.0.0.0:9093,EXTERNAL://0.0.0.0:29092",
        KAFKA_ADVERTISED_LISTENERS: "INTERNAL://kafka:9093,EXTERNAL://127.0.0.1:9092",
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
        KAFKA_INTER_BROKER_LISTENER_NAME: "INTERNAL",
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
      },
      ports: ["9092:29092"],
      dependsOn: ["zookeeper"],
      enabled: false,
      required: false,
      restart: "on-failure",
      health: { kind: "tcp", port: 29092 },
    },
    prometheus: {
      image: "prom/prometheus",
      ports: ["9090:9090"],
      enabled: false,
      required: false,
      restart: "on-failure",
      health: { kind: "http", port: 9090, path: "/-/healthy" },
    },
  };
}

function infermeshNode(id: string): BuiltinService {
  return {
    image: INFERMESH_IMAGE,
    imageHint: INFERMESH_HINT,
    command: ["node", "--port", "9000"],
    env: { NODE_ID: id, REDIS_URL: "redis://redis:6379" },
    ports: ["9000"],
    dependsOn: ["redis"],
    enabled: false,
    required: true,
    restart: "on-failure",
    health: { kind: "tcp", port: 9000 },
  };
}
