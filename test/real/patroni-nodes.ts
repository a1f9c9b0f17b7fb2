/**
 * etcd and Patroni nodes on loopback for the Patroni checks: etcd from the rendered
 * /etc/default/etcd, and each node's patroni.yml as the stack renders it and the Patroni step
 * writes it. Loopback stands in for the sites: node a is 127.0.0.2, node b 127.0.0.3, etcd
 * 127.0.0.2; Linux sends loopback traffic from 127.0.0.1, so the hba rules name 127.0.0.1.
 */
import { readFileSync } from "fs";
import * as path from "path";
import { EtcdMember, EtcdOptions, PatroniInput, renderEtcdEnvironment } from "../../components/postgres/render";
import { TlsFiles } from "../../components/postgres/clusterTls";
import { putSecretFile, readSecrets, script } from "../../components/shell";
import {
    Daemon,
    PG_BIN,
    Scratch,
    TestPki,
    freePort,
    loopbackHbaRules,
    ok,
    requireFile,
    requireTool,
    run,
    waitFor,
} from "./support";

/** The secrets a Patroni step reads from stdin, in this order. */
export const SECRETS = ["SUPERUSER_PASSWORD", "REPLICATION_PASSWORD", "REST_API_PASSWORD"];

/** The passwords the step fills into patroni.yml. */
export interface DbPasswords {
    readonly superuser: string;
    readonly replication: string;
    /** The REST API's unsafe endpoints' (PATRONI_REST_USER's). */
    readonly restApi: string;
}

/**
 * The variables of an EnvironmentFile. The renderer writes only `NAME="value"` lines (values
 * without `"`, `\`, `$` or backquotes) and comments, which systemd and sh read alike; anything
 * else is a failure here rather than a guess at how one of them would read it.
 */
export function parseEnvironmentFile(text: string): Record<string, string> {
    const vars: Record<string, string> = {};
    text.split("\n").forEach((line, i) => {
        if (line === "" || line.startsWith("#")) {
            return;
        }
        const m = /^([A-Z_][A-Z0-9_]*)="([^"\\$`]*)"$/.exec(line);
        if (!m) {
            throw new Error(`line ${i + 1} is not a plain NAME="value" assignment: ${line}`);
        }
        vars[m[1]] = m[2];
    });
    return vars;
}

/** The one etcd member, on node a's address. */
export const ETCD_MEMBER: EtcdMember = { name: "zha-etcd-a", address: "127.0.0.2" };
/** The member's initial cluster token. */
export const ETCD_TOKEN = "zha-test-etcd";

/** The running etcd: its port, rendered environment and the variables it holds, and its client URLs. */
export interface Etcd {
    /** What its clients present (root's copy of the test key). */
    readonly clientTls: TlsFiles;
    readonly clientPort: number;
    readonly environment: string;
    readonly vars: Record<string, string>;
    readonly daemon: Daemon;
    readonly endpoints: string[];
}

/** Renders the member's environment with scratch ports and data dir (the stack's defaults are 2379, 2380 and /var/lib/etcd/zabbix-ha). */
export async function etcdEnvironment(
    s: Scratch,
    members: readonly EtcdMember[],
    pki: TestPki,
): Promise<{ environment: string; options: Required<EtcdOptions> }> {
    const dir = await s.dir("etcd", "etcd");
    const options = {
        clientPort: await freePort(),
        peerPort: await freePort(),
        dataDir: path.join(dir, "data"),
        tls: pki.etcd,
    };
    return { environment: renderEtcdEnvironment(ETCD_MEMBER, members, ETCD_TOKEN, options), options };
}

/** etcd as Debian's unit runs it: the etcd user, no arguments, the settings in the environment. */
export function etcdDaemon(s: Scratch, name: string, vars: Record<string, string>): Daemon {
    return s.daemon(name, "etcd", [], { user: "etcd", env: vars });
}

/**
 * etcdctl (API v3) with bounded dial and command timeouts, verifying etcd and presenting the
 * certificate of `tls` (etcd asks every client for one); `undefined` presents none.
 */
export function etcdctl(args: readonly string[], tls: TlsFiles | undefined): ReturnType<typeof run> {
    const files = tls ? [`--cacert=${tls.caFile}`, `--cert=${tls.certFile}`, `--key=${tls.keyFile}`] : [];
    return run("etcdctl", ["--dial-timeout=2s", "--command-timeout=5s", ...files, ...args], {
        env: { ETCDCTL_API: "3" },
        timeoutMs: 20_000,
    });
}

/** Starts etcd from the rendered environment, as Debian's unit would, once it answers on both client URLs. */
export async function startEtcd(s: Scratch, pki: TestPki): Promise<Etcd> {
    requireTool("etcd");
    requireTool("etcdctl");
    const { environment, options } = await etcdEnvironment(s, [ETCD_MEMBER], pki);
    const vars = parseEnvironmentFile(environment);
    const endpoints = [`https://127.0.0.2:${options.clientPort}`, `https://127.0.0.1:${options.clientPort}`];
    const daemon = etcdDaemon(s, "etcd", vars);
    await waitFor(
        "etcd to answer on its client URLs",
        async () => (await etcdctl([`--endpoints=${endpoints.join(",")}`, "endpoint", "health"], pki.root)).code === 0,
        { watch: [daemon] },
    );
    return { clientTls: pki.root, clientPort: options.clientPort, environment, vars, daemon, endpoints };
}

/** Who may connect, as the stack derives it; on loopback every client and peer is 127.0.0.1. */
export const rules = loopbackHbaRules();

/** A Patroni node on a loopback address. */
export interface Node {
    readonly name: string;
    readonly address: string;
    readonly port: number;
    /** Temp dir owned by postgres: patroni.yml, the data dir, the unix socket, .pgpass. */
    readonly dir: string;
    readonly config: string;
    readonly data: string;
}

/**
 * The renderer's input for `node` with scratch ports, dirs, `etcd` and `pki` (its certificate names
 * 127.0.0.2 and 127.0.0.3, so the nodes verify each other's, verify-full); `over` replaces fields.
 */
export function patroniInput(
    etcd: Etcd,
    node: Node,
    restPort: number,
    pki: TestPki,
    over: Partial<PatroniInput> = {},
): PatroniInput {
    return {
        scope: "zha-test",
        name: node.name,
        address: node.address,
        port: node.port,
        etcdHosts: [ETCD_MEMBER.address],
        etcdPort: etcd.clientPort,
        restPort,
        dataDir: node.data,
        binDir: PG_BIN,
        pgpass: path.join(node.dir, "pgpass"),
        synchronous: false,
        maxConnections: 50,
        hba: rules,
        // The DB hosts' own addresses, as in production (pg_rewind is not exercised here).
        rewindSources: ["127.0.0.2", "127.0.0.3"],
        socketDir: node.dir,
        superuserPasswordVariable: "SUPERUSER_PASSWORD",
        replicationPasswordVariable: "REPLICATION_PASSWORD",
        tls: { ...pki.server, ...pki.client },
        // Linux sends loopback traffic from 127.0.0.1: every caller of the unsafe endpoints comes from there.
        restApi: { passwordVariable: "REST_API_PASSWORD", allowlist: ["127.0.0.1"] },
        ...over,
    };
}

/** A node's temp dir (owned by postgres) and a free port. */
export async function newNode(scratch: Scratch, name: string, address: string): Promise<Node> {
    const dir = await scratch.dir(`patroni-${name}`, "postgres");
    return {
        name,
        address,
        port: await freePort(),
        dir,
        config: path.join(dir, "patroni.yml"),
        data: path.join(dir, "data"),
    };
}

/**
 * Writes patroni.yml as the Patroni step does: the step's here-document under dash, with the
 * passwords read from stdin the way every step receives its secrets.
 */
export async function installConfig(file: string, rendered: string, passwords: DbPasswords): Promise<string> {
    const text = script(
        readSecrets(SECRETS),
        putSecretFile(file, "SUPERUSER_PASSWORD", "0600", "postgres:postgres", rendered.trimEnd()),
    );
    ok(
        await run("sh", ["-c", text], {
            input: `${passwords.superuser}\n${passwords.replication}\n${passwords.restApi}\n`,
        }),
    );
    return readFileSync(file, "utf8");
}

/** Throws naming the package when Patroni, patronictl or its etcd client library is missing. */
export function requirePatroni(): void {
    requireTool("patroni");
    requireTool("patronictl");
    requireFile("/usr/lib/python3/dist-packages/etcd/__init__.py");
}
