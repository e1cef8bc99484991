/**
 * Two network namespaces joined by a veth pair, made by a test for itself: a "server host" and a "client host" with
 * addresses of their own, so that traffic between them is off loopback (the daemon sees a non-loopback peer) without
 * touching any address of this machine. Removed on dispose.
 * @module
 */

/** A pair of test hosts. */
export interface TestHosts extends AsyncDisposable {
  /** Namespace names, for `ip netns exec NAME ...`. */
  server: string;
  client: string;
  /** The hosts' addresses on the link between them. */
  serverAddress: string;
  clientAddress: string;
}

async function ip(...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  if (code !== 0) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/** Makes the two namespaces (names unique to this process) and the link between them. Needs root. */
export async function makeTestHosts(): Promise<TestHosts> {
  const tag = `${Deno.pid % 100_000}`;
  const server = `dspy-s${tag}`;
  const client = `dspy-c${tag}`;
  // A /30 in the documentation-adjacent range, used only inside these namespaces.
  const serverAddress = "10.213.7.1";
  const clientAddress = "10.213.7.2";
  await ip("netns", "add", server);
  await ip("netns", "add", client);
  try {
    await ip("link", "add", `vs${tag}`, "type", "veth", "peer", "name", `vc${tag}`);
    await ip("link", "set", `vs${tag}`, "netns", server);
    await ip("link", "set", `vc${tag}`, "netns", client);
    for (const [ns, dev, addr] of [[server, `vs${tag}`, serverAddress], [client, `vc${tag}`, clientAddress]]) {
      await ip("-n", ns, "addr", "add", `${addr}/30`, "dev", dev);
      await ip("-n", ns, "link", "set", dev, "up");
      await ip("-n", ns, "link", "set", "lo", "up");
    }
  } catch (error) {
    await ip("netns", "del", server).catch(() => {});
    await ip("netns", "del", client).catch(() => {});
    throw error;
  }
  return {
    server,
    client,
    serverAddress,
    clientAddress,
    async [Symbol.asyncDispose]() {
      // Deleting a namespace deletes its end of the veth pair, and so the pair.
      await ip("netns", "del", server).catch(() => {});
      await ip("netns", "del", client).catch(() => {});
    },
  };
}

/** Writes a test CA and a server certificate it signed for `names` (DNS names and IP addresses) into `dir`. */
export async function makeCertificates(
  dir: string,
  names: string[],
): Promise<{ ca: string; cert: string; key: string }> {
  const run = async (...args: string[]) => {
    const { code, stderr } = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
      .output();
    if (code !== 0) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await run(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=dspy-agent test CA",
  );
  await run("req", ...ec, "-keyout", "key.pem", "-out", "server.csr", "-subj", "/CN=dspy-agent test daemon");
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  await run(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
  return { ca: `${dir}/ca.pem`, cert: `${dir}/cert.pem`, key: `${dir}/key.pem` };
}
