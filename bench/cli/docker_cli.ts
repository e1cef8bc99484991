/**
 * What the benchmark needs from Docker, through the docker CLI: the busybox
 * test image (built from the host's static busybox when the engine lacks it;
 * no registry is reachable here; same tag as tests/support/docker.ts), and
 * removing what a benchmark project leaves behind, by label.
 *
 * @module
 */

/** The image tag, shared with the tests. */
export const BUSYBOX_IMAGE = "dspy-agent-test/busybox:1";

/** Returns the tag, importing the image first when the engine does not have it. */
export async function ensureBusyboxImage(): Promise<string> {
  const inspect = await new Deno.Command("docker", {
    args: ["image", "inspect", BUSYBOX_IMAGE],
    stdout: "null",
    stderr: "null",
  })
    .output();
  if (inspect.success) return BUSYBOX_IMAGE;
  const script = [
    "set -e",
    "root=$(mktemp -d); trap 'rm -rf \"$root\"' EXIT",
    'mkdir -p "$root/bin" "$root/tmp" "$root/etc"',
    'cp /bin/busybox "$root/bin/busybox"',
    'for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done',
    `tar -C "$root" -c . | docker import --change 'CMD ["/bin/sh"]' ` +
    `--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - ${BUSYBOX_IMAGE} >/dev/null`,
  ].join("\n");
  const built = await new Deno.Command("sh", { args: ["-c", script], stderr: "piped" }).output();
  if (!built.success) throw new Error(`Cannot build ${BUSYBOX_IMAGE}: ${new TextDecoder().decode(built.stderr)}`);
  return BUSYBOX_IMAGE;
}

/** Removes the containers and networks labelled with a dspy-agent project. */
export async function removeProject(project: string): Promise<void> {
  const script = [
    `f=label=dev.dspy-agent.project=${project}`,
    'ids=$(docker ps -aq --filter "$f"); [ -z "$ids" ] || docker rm -f $ids >/dev/null',
    'nets=$(docker network ls -q --filter "$f"); [ -z "$nets" ] || docker network rm $nets >/dev/null',
  ].join("\n");
  await new Deno.Command("sh", { args: ["-c", script], stdout: "null", stderr: "null" }).output();
}
