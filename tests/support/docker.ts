/**
 * Docker helpers for tests and benchmarks: a running engine, images built from
 * host binaries (no registry is reachable), and cleanup by label.
 *
 * Images are tagged under `dspy-agent-test/...`, never under upstream names a
 * real user's engine may hold (ENVIRONMENT.md). They are cached: a tag that
 * exists is not rebuilt.
 * @module
 */
import { createReadStream } from "node:fs";
import { createEngine, type Engine } from "../../src/env/engine/engine.ts";
import { DockerUnavailableError } from "../../src/env/errors.ts";
import { LABEL_TEST } from "../../src/env/labels.ts";

/** Tag of the busybox test image (sh, httpd, nc, wget, sleep, ... in `/bin`). */
export const BUSYBOX_IMAGE = "dspy-agent-test/busybox:1";
/** Tag of the Redis test image (`redis-server` plus busybox). */
export const REDIS_IMAGE = "dspy-agent-test/redis:1";
/** The engine address tests use. */
export const TEST_DOCKER_HOST = "unix:///var/run/docker.sock";

const BUSYBOX = "/bin/busybox";
const REDIS_SERVER = "/usr/bin/redis-server";
const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A fresh test label value and the selector for it: `{ "dspy-agent.test": "<name>-<random>" }`. */
export function testLabels(name: string): Record<string, string> {
  return { [LABEL_TEST]: `${name}-${crypto.randomUUID().slice(0, 8)}` };
}

/**
 * Returns an engine that answers, starting `dockerd` in the background when
 * nothing listens on the default socket (fresh CI machines run as root).
 */
export async function ensureDockerEngine(
  options: { dockerHost?: string; timeoutMs?: number } = {},
): Promise<Engine> {
  const dockerHost = options.dockerHost ?? TEST_DOCKER_HOST;
  const engine = createEngine({ dockerHost });
  try {
    await engine.ping({ signal: AbortSignal.timeout(15_000) });
    return engine;
  } catch (err) {
    if (
      !(err instanceof DockerUnavailableError) ||
      dockerHost !== TEST_DOCKER_HOST
    ) throw err;
  }
  // A dockerd that is running but slow (starting up, or a loaded machine) is waited for, not duplicated.
  if (!(await dockerdRunning())) await startDockerd();
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    try {
      await engine.ping({ signal: AbortSignal.timeout(2_000) });
      return engine;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** True when the system dockerd (the one writing /var/run/docker.pid) is alive. */
async function dockerdRunning(): Promise<boolean> {
  try {
    const pid = Number((await Deno.readTextFile("/var/run/docker.pid")).trim());
    return pid > 0 && (await Deno.stat(`/proc/${pid}`).then(() => true, () => false));
  } catch {
    return false;
  }
}

/** Starts `dockerd` detached, appending to /tmp/dockerd.log. */
export async function startDockerd(): Promise<void> {
  const command = new Deno.Command("sh", {
    args: ["-c", "nohup dockerd >>/tmp/dockerd.log 2>&1 &"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
  const { success } = await command.output();
  if (!success) throw new Error("Cannot start dockerd: the shell failed");
}

/**
 * Builds (once) a ~2 MB image from the static busybox binary, every applet linked in `/bin`;
 * `files` (absolute path to text) are added to the image.
 */
export async function buildBusyboxImage(
  engine: Engine,
  tag = BUSYBOX_IMAGE,
  options: { files?: Record<string, string> } = {},
): Promise<string> {
  if (await engine.findImage(tag)) return tag;
  await withRootfs(async (root) => {
    await addBusybox(root);
    for (const [path, text] of Object.entries(options.files ?? {})) {
      await Deno.mkdir(`${root}${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
      await Deno.writeTextFile(`${root}${path}`, text);
    }
    await importRootfs(engine, root, tag, ['CMD ["/bin/sh"]']);
  });
  return tag;
}

/**
 * Builds (once) an image running the host's real `redis-server` (with the
 * libraries `ldd` lists) plus busybox; it answers `PING` with `PONG` on 6379.
 */
export async function buildRedisImage(
  engine: Engine,
  tag = REDIS_IMAGE,
): Promise<string> {
  if (await engine.findImage(tag)) return tag;
  await withRootfs(async (root) => {
    await addBusybox(root);
    await copyInto(root, REDIS_SERVER);
    for (const library of await sharedLibraries(REDIS_SERVER)) {
      await copyInto(root, library);
    }
    await Deno.mkdir(`${root}/data`, { recursive: true });
    await importRootfs(engine, root, tag, [
      // Protected mode refuses clients from other containers when no password is set.
      'CMD ["/usr/bin/redis-server", "--protected-mode", "no", "--save", "", "--appendonly", "no"]',
      "EXPOSE 6379",
      "WORKDIR /data",
    ]);
  });
  return tag;
}

/** Removes every container, network and volume carrying `key=value` (force; volumes of containers too). */
export async function removeByLabel(
  engine: Engine,
  labels: Record<string, string>,
): Promise<void> {
  const selector = { ...labels };
  for (const container of await engine.listContainers({ selector })) {
    await engine.removeContainer(container.Id, {
      force: true,
      removeVolumes: true,
    });
  }
  for (const network of await engine.listNetworks({ selector })) {
    await engine.removeNetwork(network.Id);
  }
  for (const volume of await engine.listVolumes({ selector })) {
    await engine.removeVolume(volume.Name);
  }
}

/** Throws, listing what is left, when any container, network or volume carries the labels. */
export async function assertNothingLeft(
  engine: Engine,
  labels: Record<string, string>,
): Promise<void> {
  const selector = { ...labels };
  const left = [
    ...(await engine.listContainers({ selector })).map((c) => `container ${c.Names?.[0] ?? c.Id}`),
    ...(await engine.listNetworks({ selector })).map((n) => `network ${n.Name}`),
    ...(await engine.listVolumes({ selector })).map((v) => `volume ${v.Name}`),
  ];
  if (left.length > 0) {
    throw new Error(
      `Docker resources labelled ${JSON.stringify(labels)} were left behind: ${left.join(", ")}`,
    );
  }
}

async function withRootfs(
  build: (root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "dspy-agent-rootfs-" });
  try {
    await build(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function addBusybox(root: string): Promise<void> {
  await Deno.mkdir(`${root}/bin`, { recursive: true });
  await Deno.mkdir(`${root}/tmp`, { recursive: true });
  await Deno.mkdir(`${root}/etc`, { recursive: true });
  await Deno.chmod(`${root}/tmp`, 0o1777);
  await Deno.writeTextFile(
    `${root}/etc/passwd`,
    "root:x:0:0:root:/root:/bin/sh\n",
  );
  await Deno.writeTextFile(`${root}/etc/group`, "root:x:0:\n");
  await Deno.copyFile(BUSYBOX, `${root}/bin/busybox`);
  await Deno.chmod(`${root}/bin/busybox`, 0o755);
  const list = await new Deno.Command(BUSYBOX, { args: ["--list"] }).output();
  const applets = new TextDecoder().decode(list.stdout).split("\n").filter((
    name,
  ) => /^[\w.-]+$/.test(name));
  for (const applet of applets) {
    if (applet === "busybox") continue;
    await Deno.symlink("busybox", `${root}/bin/${applet}`);
  }
}

async function copyInto(root: string, path: string): Promise<void> {
  const target = `${root}${path}`;
  await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), {
    recursive: true,
  });
  await Deno.copyFile(await Deno.realPath(path), target);
  await Deno.chmod(target, 0o755);
}

/** The absolute paths `ldd` lists for a binary (the dynamic loader included). */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout, success } = await new Deno.Command("ldd", { args: [binary] })
    .output();
  if (!success) {
    throw new Error(`Cannot list the libraries of "${binary}": ldd failed`);
  }
  return [...new TextDecoder().decode(stdout).matchAll(/(\/[^\s]+) \(0x/g)].map(
    (m) => m[1],
  );
}

async function importRootfs(
  engine: Engine,
  root: string,
  tag: string,
  changes: string[],
): Promise<void> {
  const tarPath = `${root}.tar`;
  const { success, stderr } = await new Deno.Command("tar", {
    args: ["-C", root, "-cf", tarPath, "."],
  }).output();
  if (!success) {
    throw new Error(
      `Cannot pack the rootfs of "${tag}": ${new TextDecoder().decode(stderr)}`,
    );
  }
  try {
    const [repo, version] = splitTag(tag);
    await engine.importImage(createReadStream(tarPath), {
      repo,
      tag: version,
      changes: [`ENV ${PATH_ENV}`, ...changes],
    });
  } finally {
    await Deno.remove(tarPath);
  }
}

function splitTag(tag: string): [string, string] {
  const colon = tag.lastIndexOf(":");
  return colon > tag.lastIndexOf("/") ? [tag.slice(0, colon), tag.slice(colon + 1)] : [tag, "latest"];
}

/** A throwaway image registry on loopback (Debian's `docker-registry`), for real pulls in tests. */
export interface TestRegistry extends AsyncDisposable {
  /** `127.0.0.1:PORT`: the prefix of image names in it (loopback registries need no TLS). */
  address: string;
  /** Tags a local image into the registry and pushes it; returns the registry's image name. */
  push(engine: Engine, image: string, name: string): Promise<string>;
}

/** Starts `docker-registry` with its storage in a temp folder; disposing stops it and deletes the folder. */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "dspy-agent-registry-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${listener.addr.port}`;
  listener.close();
  await Deno.writeTextFile(
    `${dir}/config.yml`,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${address}\n`,
  );
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("docker-registry", {
      args: ["serve", `${dir}/config.yml`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (err) {
    await Deno.remove(dir, { recursive: true });
    throw new Error("Cannot start docker-registry: install it with apt-get install docker-registry", { cause: err });
  }
  const deadline = Date.now() + 10_000;
  while (!(await fetch(`http://${address}/v2/`).then((r) => (r.body?.cancel(), r.ok), () => false))) {
    if (Date.now() > deadline) throw new Error(`Cannot reach docker-registry at ${address} after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    address,
    async push(engine, image, name) {
      const target = `${address}/${name}`;
      const [repo, tag] = splitTag(target);
      await engine.docker.getImage(image).tag({ repo, tag });
      // dockerode's types miss the promise form of push(); the engine wants an (empty) X-Registry-Auth.
      const pushable = engine.docker.getImage(target) as unknown as {
        push(options: { authconfig: Record<string, never> }): Promise<AsyncIterable<Uint8Array>>;
      };
      const stream = await pushable.push({ authconfig: {} });
      let log = "";
      for await (const chunk of stream) log += new TextDecoder().decode(chunk);
      if (log.includes('"error"')) throw new Error(`Cannot push "${target}": ${log}`);
      return target;
    },
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}
