/**
 * Automatic DB failover (db.failover: patroni) with the real programs: etcd starts from the
 * rendered /etc/default/etcd, Patroni's validator accepts the rendered patroni.yml, and two Patroni
 * nodes on loopback run PostgreSQL 15 from it: one leads, the other streams, and when the leader's
 * Patroni and PostgreSQL die the replica is promoted. HAProxy's patroni check follows the leader.
 *
 * Loopback stands in for the sites: node a is 127.0.0.2, node b 127.0.0.3, etcd 127.0.0.2. Linux
 * sends loopback traffic from 127.0.0.1 whichever 127.x address it goes to, so the hba rules name
 * 127.0.0.1 where production names the DB hosts and load balancers.
 */
import * as http from "http";
import * as net from "net";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { renderHaproxyCfg } from "../../components/loadbalancer/render";
import {
    ADMIN_ROLE,
    EtcdMember,
    EtcdOptions,
    PATRONI_TIMING,
    PatroniInput,
    hbaRules,
    loadBalancerClients,
    renderEtcdEnvironment,
    renderPatroniConfig,
} from "../../components/postgres/render";
import { putSecretFile, readSecrets, script } from "../../components/shell";
import {
    Daemon,
    FileCheck,
    PG_BIN,
    PgServer,
    Scratch,
    checkFile,
    expectAccepted,
    expectRejected,
    freePort,
    groupAlive,
    ok,
    password,
    psqlTcp,
    putFile,
    requireFile,
    requireTool,
    run,
    scratchSpace,
    waitFor,
} from "./support";

jest.setTimeout(120_000);

const scratch = scratchSpace();
const superuserPassword = password();
const replicationPassword = password();
const adminPassword = password();
const SECRETS = ["SUPERUSER_PASSWORD", "REPLICATION_PASSWORD"];

// ---------------------------------------------------------------------------------------------
// etcd

/**
 * The variables of an EnvironmentFile. The renderer writes only `NAME="value"` lines (values
 * without `"`, `\`, `$` or backquotes) and comments, which systemd and sh read alike; anything
 * else is a failure here rather than a guess at how one of them would read it.
 */
function parseEnvironmentFile(text: string): Record<string, string> {
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

const ETCD_MEMBER: EtcdMember = { name: "zha-etcd-a", address: "127.0.0.2" };
const ETCD_TOKEN = "zha-test-etcd";

interface Etcd {
    readonly clientPort: number;
    readonly environment: string;
    readonly vars: Record<string, string>;
    readonly daemon: Daemon;
    readonly endpoints: string[];
}

/** Renders the member's environment with scratch ports and data dir (the stack's defaults are 2379, 2380 and /var/lib/etcd/zabbix-ha). */
async function etcdEnvironment(
    s: Scratch,
    members: readonly EtcdMember[],
): Promise<{ environment: string; options: Required<EtcdOptions> }> {
    const dir = await s.dir("etcd", "etcd");
    const options = { clientPort: await freePort(), peerPort: await freePort(), dataDir: path.join(dir, "data") };
    return { environment: renderEtcdEnvironment(ETCD_MEMBER, members, ETCD_TOKEN, options), options };
}

/** etcd as Debian's unit runs it: the etcd user, no arguments, the settings in the environment. */
function etcdDaemon(s: Scratch, name: string, vars: Record<string, string>): Daemon {
    return s.daemon(name, "etcd", [], { user: "etcd", env: vars });
}

function etcdctl(args: readonly string[]): ReturnType<typeof run> {
    return run("etcdctl", ["--dial-timeout=2s", "--command-timeout=5s", ...args], {
        env: { ETCDCTL_API: "3" },
        timeoutMs: 20_000,
    });
}

let etcd: Etcd;

beforeAll(async () => {
    requireTool("etcd");
    requireTool("etcdctl");
    const { environment, options } = await etcdEnvironment(scratch, [ETCD_MEMBER]);
    const vars = parseEnvironmentFile(environment);
    const endpoints = [`http://127.0.0.2:${options.clientPort}`, `http://127.0.0.1:${options.clientPort}`];
    const daemon = etcdDaemon(scratch, "etcd", vars);
    await waitFor(
        "etcd to answer on its client URLs",
        async () => (await etcdctl([`--endpoints=${endpoints.join(",")}`, "endpoint", "health"])).code === 0,
        { watch: [daemon] },
    );
    etcd = { clientPort: options.clientPort, environment, vars, daemon, endpoints };
});

describe("etcd with the rendered /etc/default/etcd", () => {
    test("the file holds plain assignments that sh reads to the same values", async () => {
        expect(Object.keys(etcd.vars).every(k => k.startsWith("ETCD_"))).toBe(true);
        const dir = await scratch.dir("etcd-env");
        const file = await putFile(path.join(dir, "etcd"), etcd.environment);
        const shell = ok(await run("sh", ["-c", `set -a; . "$1"; exec env`, "sh", file]));
        const fromSh = Object.fromEntries(
            shell.stdout
                .split("\n")
                .filter(l => l.startsWith("ETCD_"))
                .map(l => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        expect(fromSh).toEqual(etcd.vars);
    });

    test("etcd started from it is healthy on the member's address and on 127.0.0.1", async () => {
        const result = ok(await etcdctl([`--endpoints=${etcd.endpoints.join(",")}`, "endpoint", "health"]));
        for (const endpoint of etcd.endpoints) {
            expect(result.output).toMatch(new RegExp(`${endpoint.replace(/\./g, "\\.")} is healthy`));
        }
        const members = JSON.parse(
            ok(await etcdctl([`--endpoints=${etcd.endpoints[0]}`, "member", "list", "-w", "json"])).stdout,
        );
        expect(
            members.members.map((m: { name: string; peerURLs: string[]; clientURLs: string[] }) => [
                m.name,
                m.peerURLs,
                m.clientURLs,
            ]),
        ).toEqual([
            [ETCD_MEMBER.name, [etcd.vars.ETCD_INITIAL_ADVERTISE_PEER_URLS], [etcd.vars.ETCD_ADVERTISE_CLIENT_URLS]],
        ]);
    });

    test("an ETCD_INITIAL_CLUSTER that omits the member stops etcd from starting", async () => {
        const other = { name: "zha-etcd-b", address: "127.0.0.3" };
        const { environment } = await etcdEnvironment(scratch, [other]);
        const vars = parseEnvironmentFile(environment);
        expect(vars.ETCD_INITIAL_CLUSTER).not.toContain(ETCD_MEMBER.name);
        const result = await run("etcd", [], { user: "etcd", env: vars, timeoutMs: 30_000 });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(
            new RegExp(`couldn't find local name "${ETCD_MEMBER.name}" in the initial cluster configuration`),
        );
    });
});

// ---------------------------------------------------------------------------------------------
// Patroni

/** Who may connect, as the stack derives it; on loopback every client and peer is 127.0.0.1. */
const rules = hbaRules({
    dbName: "zabbix",
    dbUser: "zabbix",
    dbHosts: ["127.0.0.1"],
    clients: loadBalancerClients(["127.0.0.1"]),
    adminNetwork: "198.18.100.0/24",
});

interface Node {
    readonly name: string;
    readonly address: string;
    readonly port: number;
    /** Temp dir owned by postgres: patroni.yml, the data dir, the unix socket, .pgpass. */
    readonly dir: string;
    readonly config: string;
    readonly data: string;
}

function patroniInput(node: Node, restPort: number, over: Partial<PatroniInput> = {}): PatroniInput {
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
        ...over,
    };
}

async function newNode(name: string, address: string): Promise<Node> {
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
async function installConfig(file: string, rendered: string): Promise<string> {
    const text = script(
        readSecrets(SECRETS),
        putSecretFile(file, "SUPERUSER_PASSWORD", "0600", "postgres:postgres", rendered.trimEnd()),
    );
    ok(await run("sh", ["-c", text], { input: `${superuserPassword}\n${replicationPassword}\n` }));
    return readFileSync(file, "utf8");
}

/** `patroni --validate-config` prints one line per problem and exits 1 when there is any. */
const PATRONI_VALIDATE: FileCheck = {
    tool: "patroni",
    fileName: "patroni.yml",
    args: file => ["--validate-config", file],
    accepted: output => output.trim() === "",
};

function requirePatroni(): void {
    requireTool("patroni");
    requireTool("patronictl");
    requireFile("/usr/lib/python3/dist-packages/etcd/__init__.py");
}

describe("patroni --validate-config with the rendered patroni.yml", () => {
    let node: Node;
    let rendered: string;

    beforeAll(async () => {
        requirePatroni();
        // Patroni refuses 127.0.0.1 as a connect address, not the rest of 127.0.0.0/8.
        node = await newNode("validate", "127.0.0.2");
        rendered = await installConfig(node.config, renderPatroniConfig(patroniInput(node, await freePort())));
    });

    test("the host's here-document fills in the passwords", () => {
        expect(rendered).not.toMatch(/\$[A-Z_]+/);
        expect(rendered.match(new RegExp(`password: "${superuserPassword}"`, "g"))).toHaveLength(2);
        expect(rendered).toContain(`password: "${replicationPassword}"`);
    });

    test("it is accepted without a word", async () => {
        const result = await run("patroni", ["--validate-config", node.config]);
        expect(result.output).toBe("");
        expect(result.code).toBe(0);
    });

    test("a ttl that is not an integer is rejected", async () => {
        const broken = rendered.replace(/^( {4}ttl:) \d+$/m, "$1 twenty");
        expect(broken).not.toBe(rendered);
        expectRejected(await checkFile(PATRONI_VALIDATE, broken), /bootstrap\.dcs\.ttl twenty is not an(d)? integer/);
    });

    test("a config without a DCS section is rejected", async () => {
        const broken = rendered.replace(/^etcd3:\n {2}hosts: .*\n/m, "");
        expect(broken).not.toMatch(/etcd3/);
        expectRejected(await checkFile(PATRONI_VALIDATE, broken), /etcd3 {1,2}is not defined/);
    });

    test("an etcd that does not answer is rejected", async () => {
        const broken = renderPatroniConfig(patroniInput(node, await freePort(), { etcdPort: await freePort() }));
        expectRejected(
            await checkFile(PATRONI_VALIDATE, broken),
            /etcd3\.hosts\.0 .* didn't pass validation: '127\.0\.0\.2:\d+ is not reachable'/,
        );
    });

    test("a host address of 127.0.0.1 is refused as a connect address", async () => {
        const broken = renderPatroniConfig(patroniInput(node, await freePort(), { address: "127.0.0.1" }));
        const result = await checkFile(PATRONI_VALIDATE, broken);
        expectRejected(
            result,
            /restapi\.connect_address 127\.0\.0\.1:\d+ didn't pass validation: 'must not contain "127\.0\.0\.1"/,
        );
        expect(result.output).toMatch(
            /postgresql\.connect_address 127\.0\.0\.1:\d+ didn't pass validation: 'must not contain "127\.0\.0\.1"/,
        );
    });
});

/** `haproxy -c` exits 1 on errors and prints this line only when it accepts the file. */
const HAPROXY_CHECK: FileCheck = {
    tool: "haproxy",
    fileName: "haproxy.cfg",
    args: file => ["-c", "-f", file],
    accepted: output => /Configuration file is valid/.test(output),
};

/** GET on Patroni's REST API: the status code. */
function restStatus(node: Node, restPort: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = http.get(
            { host: node.address, port: restPort, path: `/${what}`, agent: false, timeout: 3_000 },
            res => {
                res.resume();
                resolve(res.statusCode ?? 0);
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer from ${node.address}:${restPort}/${what}`)));
        req.on("error", reject);
    });
}

/** Status of each server of a proxy, from HAProxy's stats socket (`show stat`). */
function serverStatus(socket: string, proxy: string): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        const conn = net.createConnection({ path: socket }, () => conn.end("show stat\n"));
        conn.setTimeout(5_000, () => conn.destroy(new Error(`no answer on ${socket}`)));
        conn.on("data", b => chunks.push(b));
        conn.on("error", reject);
        conn.on("close", () => {
            const [header, ...rows] = Buffer.concat(chunks).toString().trim().split("\n");
            const columns = header.replace(/^# /, "").split(",");
            const status: Record<string, string> = {};
            for (const row of rows.map(r => r.split(","))) {
                const server = row[columns.indexOf("svname")];
                if (row[columns.indexOf("pxname")] === proxy && !["FRONTEND", "BACKEND"].includes(server)) {
                    status[server] = row[columns.indexOf("status")];
                }
            }
            resolve(status);
        });
    });
}

/** The process group of the postmaster of a data dir, while it runs (Patroni starts it in a session of its own). */
function postmasterGroup(data: string): number | undefined {
    const pidFile = path.join(data, "postmaster.pid");
    if (!existsSync(pidFile)) {
        return undefined;
    }
    const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    try {
        // A stale postmaster.pid may name a pid reused since: only a postgres of this data dir counts.
        if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(data)) {
            return undefined;
        }
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return state === "Z" ? undefined : Number(pgrp);
    } catch {
        return undefined;
    }
}

async function killGroupNow(pgid: number, what: string): Promise<void> {
    try {
        process.kill(-pgid, "SIGKILL");
    } catch {
        // ESRCH: already gone
    }
    await waitFor(`${what} (process group ${pgid}) to die`, () => !groupAlive(pgid), { timeoutMs: 10_000 });
}

interface Member {
    readonly Member: string;
    readonly Host: string;
    readonly Role: string;
    readonly State: string;
}

describe("two Patroni nodes from the rendered patroni.yml, with HAProxy's patroni check in front", () => {
    let restPort: number;
    let a: Node;
    let b: Node;
    const patroni: Record<string, Daemon> = {};
    let statsSocket: string;
    let lbDbPort: number;
    let haproxy: Daemon;

    const members = async (node: Node): Promise<Member[]> =>
        JSON.parse(
            ok(
                await run("patronictl", ["-c", node.config, "list", "--format", "json"], {
                    user: "postgres",
                    cwd: node.dir,
                }),
            ).stdout,
        );
    const status = (node: Node, what: string) => restStatus(node, restPort, what);
    const logs = () =>
        Object.entries(patroni)
            .map(([name, d]) => `--- patroni ${name}:\n${d.output().slice(-6000)}`)
            .join("\n");
    const throughHaproxy = async () => {
        const result = await psqlTcp(
            { host: "127.0.0.1", port: lbDbPort, user: ADMIN_ROLE, db: "postgres", password: adminPassword },
            "select pg_is_in_recovery(), inet_server_port()",
        );
        return result.code === 0 ? result.stdout.trim() : `psql exited ${result.code}: ${result.output.trim()}`;
    };

    async function startNode(node: Node): Promise<void> {
        await installConfig(node.config, renderPatroniConfig(patroniInput(node, restPort)));
        // Patroni stops its PostgreSQL when it is stopped; should it die first, the postmaster is ended here.
        scratch.defer(`stop the PostgreSQL of ${node.name}`, async () => {
            const pgid = postmasterGroup(node.data);
            if (pgid) {
                await killGroupNow(pgid, `PostgreSQL of ${node.name}`);
            }
        });
        patroni[node.name] = scratch.daemon(`patroni ${node.name}`, "patroni", [node.config], {
            user: "postgres",
            cwd: node.dir,
        });
    }

    beforeAll(async () => {
        requirePatroni();
        restPort = await freePort();
        a = await newNode("a", "127.0.0.2");
        b = await newNode("b", "127.0.0.3");
        // As the stack does it: the planned leader first, the other once the leader runs.
        await startNode(a);
        await waitFor("patroni a to bootstrap and lead", async () => (await status(a, "primary")) === 200, {
            timeoutMs: 60_000,
            watch: [patroni.a],
            detail: logs,
        });
        await startNode(b);
        await waitFor("patroni b to stream from a", async () => (await status(b, "replica")) === 200, {
            timeoutMs: 60_000,
            watch: [patroni.a, patroni.b],
            detail: logs,
        });
        // The admin role, as leaderRolesStep makes it: the client for the checks through HAProxy.
        await new PgServer(scratch, "a", a.dir, a.port).sql(
            `create role ${ADMIN_ROLE} login superuser password '${adminPassword}'`,
        );
    });

    test("one node leads and the other is a streaming replica", async () => {
        expect(await status(a, "primary")).toBe(200);
        expect(await status(b, "primary")).toBe(503);
        expect(await status(b, "replica")).toBe(200);
        expect(await status(a, "replica")).toBe(503);
        const pgB = new PgServer(scratch, "b", b.dir, b.port);
        expect(await pgB.sql("select pg_is_in_recovery()")).toBe("t");
        await waitFor(
            "b's WAL receiver to stream",
            async () => (await pgB.sql("select status from pg_stat_wal_receiver")) === "streaming",
        );
        // The admin role made on the leader reaches the replica (asynchronously: streaming starts before it is replayed).
        await waitFor(
            "the admin role to reach b",
            async () => (await pgB.sql(`select count(*) from pg_roles where rolname = '${ADMIN_ROLE}'`)) === "1",
        );
    });

    test("patronictl list shows the Leader and the Replica", async () => {
        // Patroni 3.0 says "running" of a replica that streams (3.0.4 and later say "streaming").
        const list = await waitFor(
            "patronictl to list both members running",
            async () => {
                const m = await members(a);
                return m.length === 2 && m.every(x => x.State === "running") && m;
            },
            { detail: logs },
        );
        expect(list.map(m => [m.Member, m.Host, m.Role])).toEqual([
            ["a", `127.0.0.2:${a.port}`, "Leader"],
            ["b", `127.0.0.3:${b.port}`, "Replica"],
        ]);
    });

    test("the PostgreSQL Patroni runs reads the rendered settings", async () => {
        const pgA = new PgServer(scratch, "a", a.dir, a.port);
        expect(
            await pgA.sql(
                "select current_setting('listen_addresses'), current_setting('port'), current_setting('unix_socket_directories')",
            ),
        ).toBe(`127.0.0.1,127.0.0.2|${a.port}|${a.dir}`);
        expect(
            await pgA.sql(
                "select current_setting('wal_level'), current_setting('wal_log_hints'), current_setting('password_encryption'), current_setting('data_checksums')",
            ),
        ).toBe("replica|on|scram-sha-256|on");
        const hba = await pgA.sql(
            "select type, database[1], user_name[1], coalesce(address, ''), auth_method, coalesce(error, '') from pg_hba_file_rules order by line_number",
        );
        expect(hba.split("\n")).toEqual([
            "local|all|postgres||peer|",
            ...rules.map(r => `host|${r.database}|${r.user}|${r.source.split("/")[0]}|scram-sha-256|`),
            "host|all|postgres|127.0.0.2|scram-sha-256|",
            "host|all|postgres|127.0.0.3|scram-sha-256|",
            "host|replication|zabbix_ha_replicator|127.0.0.1|scram-sha-256|",
        ]);
    });

    test("HAProxy with the patroni check passes haproxy -c and lets the DB port reach only the leader", async () => {
        const lbDir = await scratch.dir("haproxy");
        lbDbPort = await freePort();
        const rendered = renderHaproxyCfg({
            site: "test",
            httpPort: await freePort(),
            localFrontends: [{ name: "web-local", address: "127.0.0.1", port: await freePort() }],
            remoteFrontends: [],
            dbPort: lbDbPort,
            dbServers: [
                { name: "db-a", address: a.address, port: a.port },
                { name: "db-b", address: b.address, port: b.port },
            ],
            dbAllowedSources: ["127.0.0.1"],
            primaryCheckCommand: "/nonexistent/unused-with-patroni",
            dbCheck: "patroni",
            patroniPort: restPort,
            runDir: lbDir,
        });
        expect(rendered).toContain(`option httpchk GET /primary\n    http-check expect status 200\n`);
        expect(rendered).toContain(` port ${restPort}\n`);
        expect(rendered).not.toMatch(/external-check/);
        // The scratch HAProxy binds loopback only (the rendered `bind :PORT` takes every address).
        const loopback = rendered.replace(/^( {4}bind ):(\d+)$/gm, "$1127.0.0.1:$2");
        expect(loopback.match(/bind 127\.0\.0\.1:/g)).toHaveLength(2);
        const checked = await checkFile(HAPROXY_CHECK, rendered);
        expectAccepted(checked);
        expect(checked.output).not.toMatch(/\[(ALERT|WARNING)\]/);

        const cfg = await putFile(path.join(lbDir, "haproxy.cfg"), loopback);
        statsSocket = path.join(lbDir, "admin.sock");
        haproxy = scratch.daemon("haproxy", "haproxy", ["-db", "-f", cfg], { cwd: lbDir });
        await waitFor(
            "HAProxy to mark db-a UP and db-b DOWN",
            async () => {
                const s = await serverStatus(statsSocket, "postgres_primary");
                return s["db-a"] === "UP" && s["db-b"] === "DOWN";
            },
            { watch: [haproxy], detail: () => `haproxy output:\n${haproxy.output()}` },
        );
        for (let i = 0; i < 4; i++) {
            expect(await throughHaproxy()).toBe(`f|${a.port}`);
        }
    });

    test("when the leader's Patroni and PostgreSQL die, the replica is promoted and HAProxy follows it", async () => {
        const pgid = postmasterGroup(a.data);
        expect(pgid).toBeDefined();
        const killed = Date.now();
        await killGroupNow(patroni.a.pid, "patroni a");
        await killGroupNow(pgid!, "PostgreSQL of a");
        await waitFor("b to be promoted", async () => (await status(b, "primary")) === 200, {
            timeoutMs: 90_000,
            intervalMs: 500,
            watch: [patroni.b],
            detail: logs,
        });
        const seconds = (Date.now() - killed) / 1000;
        console.log(
            `Patroni failover: b answered 200 on /primary ${seconds.toFixed(1)} s after a's Patroni and PostgreSQL were killed (ttl ${PATRONI_TIMING.ttl} s, loop_wait ${PATRONI_TIMING.loopWait} s)`,
        );
        expect(await new PgServer(scratch, "b", b.dir, b.port).sql("select pg_is_in_recovery()")).toBe("f");

        await waitFor("HAProxy's DB port to reach b", async () => (await throughHaproxy()) === `f|${b.port}`, {
            timeoutMs: 30_000,
            watch: [haproxy],
            detail: async () => JSON.stringify(await serverStatus(statsSocket, "postgres_primary")),
        });
        expect(await serverStatus(statsSocket, "postgres_primary")).toEqual({ "db-a": "DOWN", "db-b": "UP" });
        const list = await members(b);
        expect(list.find(m => m.Member === "b")?.Role).toBe("Leader");
    });
});
