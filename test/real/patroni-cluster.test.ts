/**
 * Automatic DB failover (db.failover: patroni) running: two Patroni nodes on loopback run
 * PostgreSQL 15 from the rendered patroni.yml: one leads, the other streams, and when the leader's
 * Patroni and PostgreSQL die the replica is promoted. HAProxy's patroni check follows the leader.
 */
import * as http from "http";
import * as https from "https";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { renderHaproxyCfg } from "../../components/loadbalancer/render";
import { patroniLayout, platformFor } from "../../components/platform";
import { patroniSettingsStep } from "../../components/postgres/patroniSteps";
import {
    ADMIN_ROLE,
    PATRONI_REST_USER,
    PATRONI_TIMING,
    REPLICATION_TIMEOUTS,
    renderPatroniConfig,
} from "../../components/postgres/render";
import { script, shellQuote } from "../../components/shell";
import {
    Daemon,
    FileCheck,
    PgServer,
    TestPki,
    checkFile,
    expectAccepted,
    freePort,
    groupAlive,
    loopbackBalancerUi,
    ok,
    password,
    psqlTcp,
    putFile,
    run,
    scratchSpace,
    serverStatus,
    testPki,
    waitFor,
} from "./support";
import {
    DbPasswords,
    Etcd,
    Node,
    installConfig,
    newNode,
    patroniInput,
    requirePatroni,
    rules,
    startEtcd,
} from "./patroni-nodes";

jest.setTimeout(120_000);

const scratch = scratchSpace();
const passwords: DbPasswords = { superuser: password(), replication: password(), restApi: password() };
const adminPassword = password();

let etcd: Etcd;
/** The nodes' certificate (it names 127.0.0.2 and 127.0.0.3) and the CA every client verifies it against. */
let pki: TestPki;

beforeAll(async () => {
    // HAProxy's check verifies the name of each DB server (verifyhost db-a, db-b).
    pki = await testPki(scratch, "Test CA", ["db-a", "db-b"]);
    etcd = await startEtcd(scratch, pki);
});

/** `haproxy -c` exits 1 on errors and prints this line only when it accepts the file. */
const HAPROXY_CHECK: FileCheck = {
    tool: "haproxy",
    fileName: "haproxy.cfg",
    args: file => ["-c", "-f", file],
    accepted: output => /Configuration file is valid/.test(output),
};

/** How a request to Patroni's REST API is made: with the stack's client certificate (the default), and a password. */
interface RestCall {
    readonly method?: string;
    readonly body?: string;
    /** `user:password` for basic authentication. */
    readonly auth?: string;
    /** Present no client certificate. */
    readonly noCertificate?: boolean;
}

/** A request to Patroni's REST API over TLS, verifying it against the test CA: the status code. */
function restCall(node: Node, restPort: number, what: string, call: RestCall = {}): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = https.request(
            {
                host: node.address,
                port: restPort,
                path: `/${what}`,
                method: call.method ?? "GET",
                agent: false,
                timeout: 3_000,
                ca: readFileSync(pki.client.caFile),
                ...(call.noCertificate
                    ? {}
                    : { cert: readFileSync(pki.root.certFile), key: readFileSync(pki.root.keyFile) }),
                ...(call.auth ? { auth: call.auth } : {}),
                headers: call.body ? { "content-type": "application/json" } : {},
            },
            res => {
                res.resume();
                resolve(res.statusCode ?? 0);
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer from ${node.address}:${restPort}/${what}`)));
        req.on("error", reject);
        req.end(call.body);
    });
}

/** GET on Patroni's REST API: the status code. */
function restStatus(node: Node, restPort: number, what: string): Promise<number> {
    return restCall(node, restPort, what);
}

/** A plain-HTTP GET to the REST API's port: the status code, or the error. */
function plainHttpGet(node: Node, restPort: number, what: string): Promise<number | string> {
    return new Promise(resolve => {
        const req = http.get(
            { host: node.address, port: restPort, path: `/${what}`, agent: false, timeout: 3_000 },
            res => {
                res.resume();
                resolve(res.statusCode ?? 0);
            },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", e => resolve(e.message));
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
            {
                host: "127.0.0.1",
                port: lbDbPort,
                user: ADMIN_ROLE,
                db: "postgres",
                password: adminPassword,
                tls: pki.db,
            },
            "select pg_is_in_recovery(), inet_server_port()",
        );
        return result.code === 0 ? result.stdout.trim() : `psql exited ${result.code}: ${result.output.trim()}`;
    };

    async function startNode(node: Node): Promise<void> {
        await installConfig(node.config, renderPatroniConfig(patroniInput(etcd, node, restPort, pki)), passwords);
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
        a = await newNode(scratch, "a", "127.0.0.2");
        b = await newNode(scratch, "b", "127.0.0.3");
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
        // Patroni's primary_conninfo verifies a's certificate (verify-full): the stream is encrypted.
        const pgA = new PgServer(scratch, "a", a.dir, a.port);
        expect(
            await pgA.sql("select r.application_name, s.ssl from pg_stat_replication r join pg_stat_ssl s using (pid)"),
        ).toBe("b|t");
        // The admin role made on the leader reaches the replica (asynchronously: streaming starts before it is replayed).
        await waitFor(
            "the admin role to reach b",
            async () => (await pgB.sql(`select count(*) from pg_roles where rolname = '${ADMIN_ROLE}'`)) === "1",
        );
    });

    test("the REST API speaks TLS only, and asks every client for a certificate of the stack's CA", async () => {
        expect(await plainHttpGet(a, restPort, "primary")).not.toBe(200);
        await expect(restCall(a, restPort, "primary", { noCertificate: true })).rejects.toThrow();
        expect(await status(a, "primary")).toBe(200);
    });

    test("an unauthenticated PATCH /config gets 401 and changes nothing; with the password it changes the setting", async () => {
        const body = JSON.stringify({ postgresql: { parameters: { work_mem: "5MB" } } });
        expect(await restCall(a, restPort, "config", { method: "PATCH", body })).toBe(401);
        const wrong = `${PATRONI_REST_USER}:not-the-password`;
        expect(await restCall(a, restPort, "config", { method: "PATCH", body, auth: wrong })).toBe(401);
        const shown = async () =>
            ok(await run("patronictl", ["-c", a.config, "show-config"], { user: "postgres", cwd: a.dir })).stdout;
        expect(await shown()).not.toMatch(/work_mem: 5MB/);
        const auth = `${PATRONI_REST_USER}:${passwords.restApi}`;
        expect(await restCall(a, restPort, "config", { method: "PATCH", body, auth })).toBe(200);
        expect(await shown()).toMatch(/work_mem: 5MB/);
        // Back as it was (null removes the key).
        const undo = JSON.stringify({ postgresql: { parameters: { work_mem: null } } });
        expect(await restCall(a, restPort, "config", { method: "PATCH", body: undo, auth })).toBe(200);
    });

    test("the password alone is not enough without a client certificate", async () => {
        const auth = `${PATRONI_REST_USER}:${passwords.restApi}`;
        await expect(
            restCall(a, restPort, "restart", { method: "POST", body: "{}", auth, noCertificate: true }),
        ).rejects.toThrow();
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
        expect(
            await pgA.sql(
                "select current_setting('ssl'), current_setting('ssl_cert_file'), current_setting('ssl_key_file'), current_setting('ssl_min_protocol_version')",
            ),
        ).toBe(`on|${pki.server.certFile}|${pki.server.keyFile}|TLSv1.2`);
        const hba = await pgA.sql(
            "select type, database[1], user_name[1], coalesce(address, ''), auth_method, coalesce(error, '') from pg_hba_file_rules order by line_number",
        );
        expect(hba.split("\n")).toEqual([
            "local|all|postgres||peer|",
            ...rules.map(r => `hostssl|${r.database}|${r.user}|${r.source.split("/")[0]}|scram-sha-256|`),
            "hostssl|all|postgres|127.0.0.2|scram-sha-256|",
            "hostssl|all|postgres|127.0.0.3|scram-sha-256|",
            "hostssl|replication|zabbix_ha_replicator|127.0.0.1|scram-sha-256|",
        ]);
    });

    test("the settings step brings the cluster-wide settings in etcd to the config's, and says so only when it changed them", async () => {
        const showConfig = async () =>
            ok(await run("patronictl", ["-c", a.config, "show-config"], { user: "postgres", cwd: a.dir })).stdout;
        // The step as the stack sends it, pointed at this node's patroni.yml instead of the platform's path.
        const settingsStep = (synchronous: boolean) =>
            script(patroniSettingsStep({ platform: platformFor("debian12"), synchronous })).replace(
                shellQuote(patroniLayout(platformFor("debian12")).config),
                shellQuote(a.config),
            );
        const runStep = async (synchronous: boolean) =>
            ok(await run("sh", ["-c", settingsStep(synchronous)], { user: "postgres", cwd: a.dir })).stdout;
        // bootstrap.dcs seeded the cluster without synchronous mode; patroni.yml's bootstrap section is never read again.
        expect(await showConfig()).toMatch(/^synchronous_mode: false$/m);
        expect(await runStep(true)).toMatch(/cluster-wide settings are now .*synchronous_mode=true/);
        const changed = await showConfig();
        expect(changed).toMatch(/^synchronous_mode: true$/m);
        expect(changed).toMatch(new RegExp(`^ttl: ${PATRONI_TIMING.ttl}$`, "m"));
        expect(changed).toMatch(new RegExp(`^loop_wait: ${PATRONI_TIMING.loopWait}$`, "m"));
        // Run again, nothing changes and nothing is reported.
        expect(await runStep(true)).toBe("");
        expect(await runStep(false)).toMatch(/synchronous_mode=false/);
        expect(await showConfig()).toMatch(/^synchronous_mode: false$/m);
    });

    test("the replication timeouts reach PostgreSQL on every member, from bootstrap and from the settings step on a running cluster", async () => {
        const shown = async (node: Node, setting: string) =>
            ok(
                await run(
                    "psql",
                    [
                        "-X",
                        "-A",
                        "-t",
                        "-h",
                        node.dir,
                        "-p",
                        String(node.port),
                        "-d",
                        "postgres",
                        "-c",
                        `show ${setting}`,
                    ],
                    { user: "postgres" },
                ),
            ).stdout.trim();
        const everywhere = async (value: string) =>
            waitFor(`wal_sender_timeout and wal_receiver_timeout ${value} on a and b`, async () => {
                const values = await Promise.all(
                    [a, b].flatMap(node => [shown(node, "wal_sender_timeout"), shown(node, "wal_receiver_timeout")]),
                );
                return values.every(v => v === value);
            });
        for (const [key, value] of Object.entries(REPLICATION_TIMEOUTS)) {
            expect(await shown(a, key)).toBe(value);
        }
        // As a cluster bootstrapped before this setting existed has it: PostgreSQL's default minute.
        const edit = (value: string) =>
            run(
                "patronictl",
                [
                    "-c",
                    a.config,
                    "edit-config",
                    "--force",
                    "--quiet",
                    ...Object.keys(REPLICATION_TIMEOUTS).flatMap(key => [
                        "-s",
                        `postgresql.parameters.${key}=${value}`,
                    ]),
                ],
                { user: "postgres", cwd: a.dir },
            );
        ok(await edit("1min"));
        await everywhere("1min");
        const step = script(patroniSettingsStep({ platform: platformFor("debian12"), synchronous: false })).replace(
            shellQuote(patroniLayout(platformFor("debian12")).config),
            shellQuote(a.config),
        );
        expect(ok(await run("sh", ["-c", step], { user: "postgres", cwd: a.dir })).stdout).toMatch(
            /wal_sender_timeout=10s/,
        );
        await everywhere("10s");
    });

    test("HAProxy with the patroni check passes haproxy -c and lets the DB port reach only the leader", async () => {
        const lbDir = await scratch.dir("haproxy");
        lbDbPort = await freePort();
        const rendered = renderHaproxyCfg({
            site: "test",
            ...(await loopbackBalancerUi(pki)),
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
            patroniTls: { caFile: pki.client.caFile, pemFile: pki.haproxyPemFile },
            runDir: lbDir,
        });
        // The check speaks TLS to the REST API, verifies it names the DB host, presents HAProxy's certificate.
        expect(rendered).toContain(`check-ssl verify required ca-file ${pki.client.caFile} crt ${pki.haproxyPemFile}`);
        expect(rendered).toContain(`server db-a ${a.address}:${a.port} check verifyhost db-a`);
        expect(rendered).toContain(`option httpchk GET /primary\n    http-check expect status 200\n`);
        expect(rendered).toContain(` port ${restPort} check-ssl `);
        expect(rendered).not.toMatch(/external-check/);
        // Bound to the given address only: HTTP, HTTPS and the DB port.
        expect(rendered.match(/^ {4}bind .*$/gm)?.every(l => l.startsWith("    bind 127.0.0.1:"))).toBe(true);
        expect(rendered.match(/^ {4}bind /gm)).toHaveLength(3);
        const checked = await checkFile(HAPROXY_CHECK, rendered);
        expectAccepted(checked);
        expect(checked.output).not.toMatch(/\[(ALERT|WARNING)\]/);

        const cfg = await putFile(path.join(lbDir, "haproxy.cfg"), rendered);
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
        // Patroni answers 200 on /primary once it has asked PostgreSQL to promote; the promotion itself
        // ends a moment later (under load, b was still in recovery at the first look).
        const promoted = new PgServer(scratch, "b", b.dir, b.port);
        await waitFor("b to accept writes", async () => (await promoted.sql("select pg_is_in_recovery()")) === "f", {
            timeoutMs: 10_000,
            intervalMs: 200,
        });

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
