/**
 * zabbix_server.conf, read by Debian's zabbix_server 6.0: two nodes rendered for native HA start
 * side by side against a scratch PostgreSQL holding the Zabbix schema, and form a cluster of one
 * active node and one standby. The schema is loaded by the library's own schema step, run by sh.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { hbaRules, loadBalancerClients, renderPgHba, renderPostgresConf } from "../../components/postgres/render";
import { schemaStep } from "../../components/postgres/schema";
import { putSecretFile, readSecrets, script } from "../../components/shell";
import { postgresMaxConnections, sizeServer } from "../../components/sizing";
import { renderZabbixServerConf, zabbixServerPasswordTemplate } from "../../components/zabbix/render";
import { renderTakeoverScript } from "../../components/zabbix/render";
import { platformFor, zabbixLayout } from "../../components/platform";
import {
    Daemon,
    PgServer,
    freePort,
    includeInPostgresConf,
    initPostgres,
    ok,
    password,
    putFile,
    requireFile,
    run,
    scratchSpace,
    waitFor,
} from "./support";

jest.setTimeout(150_000);

const scratch = scratchSpace();
const dbPassword = password();
const sizing = sizeServer({ monitoredHosts: 10, items: 100, updateIntervalSeconds: 60 });
/** Debian's own Zabbix 6.0 packaging: the schema in three files, loaded in this order. */
const SCHEMA_FILES = zabbixLayout(platformFor("debian12"), "distribution").schemaFiles;
const HA_STATUS: Record<string, string> = { 0: "standby", 1: "stopped", 2: "unavailable", 3: "active" };

interface Node {
    readonly name: string;
    readonly dir: string;
    readonly conf: string;
    readonly listenPort: number;
    server?: Daemon;
}

/** Runs a step script the way a host does: `sh -c`, secrets on stdin. */
function runStep(body: string, secrets: Record<string, string>) {
    const text = script(readSecrets(Object.keys(secrets)), body);
    return run("sh", ["-c", text], {
        input: Object.values(secrets)
            .map(v => `${v}\n`)
            .join(""),
        timeoutMs: 120_000,
    });
}

describe("zabbix_server with the rendered configuration", () => {
    let db: PgServer;
    const nodes: Node[] = [];

    /** Name -> HA status of every node the database knows, as the nodes themselves record it. */
    async function haNodes(): Promise<Record<string, string>> {
        const rows = await db.sql("select name, status, address, port from ha_node order by name", "zabbix");
        return Object.fromEntries(
            rows
                .split("\n")
                .filter(Boolean)
                .map(row => {
                    const [name, status, address, port] = row.split("|");
                    return [name, `${HA_STATUS[status] ?? status} ${address}:${port}`];
                }),
        );
    }

    const logs = () => nodes.map(n => `--- ${n.name} log:\n${readLog(n)}`).join("\n");

    function startNode(node: Node): Daemon {
        // As Debian's unit does (User=zabbix): zabbix_server refuses to run as root without AllowRoot.
        node.server = scratch.daemon(`zabbix_server ${node.name}`, "zabbix_server", ["-c", node.conf, "-f"], {
            user: "zabbix",
            cwd: node.dir,
        });
        return node.server;
    }

    beforeAll(async () => {
        SCHEMA_FILES.forEach(requireFile);
        db = await initPostgres(scratch, "zabbix-db", await freePort());
        // The servers connect from 127.0.0.1, where in production the site's load balancer is.
        await db.writeDataFile(
            "zabbix-ha.conf",
            renderPostgresConf({
                listenAddresses: ["127.0.0.1"],
                port: db.port,
                maxConnections: postgresMaxConnections(sizing, 1),
            }),
        );
        const rules = (dbName: string) =>
            hbaRules({
                dbName,
                dbUser: "zabbix",
                dbHosts: ["127.0.0.1"],
                clients: loadBalancerClients(["127.0.0.1"]),
                adminNetwork: "198.18.100.0/24",
            });
        await db.writeDataFile(
            "pg_hba.conf",
            renderPgHba({ rules: [...rules("zabbix"), ...rules("zabbix_single"), ...rules("zabbix_takeover")] }),
        );
        await includeInPostgresConf(db, ["zabbix-ha.conf"]);
        await db.start();
        // What the PostgreSQL provider makes: the role, and a database it owns.
        await db.sql(`create role zabbix login password '${dbPassword}'`);
        await db.sql(
            "create database zabbix owner zabbix encoding 'UTF8' lc_collate 'C' lc_ctype 'C' template template0",
        );

        // The library's schema step, as the loader host runs it (5 to 17 s: data.sql is 130k INSERTs).
        const step = schemaStep({
            dbHost: "127.0.0.1",
            dbPort: db.port,
            dbName: "zabbix",
            dbUser: "zabbix",
            passwordVariable: "ZABBIX_DB_PASSWORD",
            schemaFiles: SCHEMA_FILES,
        });
        const loaded = ok(await runStep(step, { ZABBIX_DB_PASSWORD: dbPassword }));
        expect(loaded.output).toMatch(/loading the Zabbix schema/);
        // A second database for the server without native HA: a file-level copy, while nothing is connected.
        await db.sql("create database zabbix_single template zabbix owner zabbix");
        // And one whose ha_node rows the prompt-takeover test sets by hand.
        await db.sql("create database zabbix_takeover template zabbix owner zabbix");

        nodes.push(await prepareNode("node-a", "zabbix"), await prepareNode("node-b", "zabbix"));
    });

    /** A server's dir, rendered config and password include; `name` undefined renders it without native HA. */
    async function prepareNode(name: string | undefined, dbName: string): Promise<Node> {
        const dir = await scratch.dir(`zabbix-${name ?? "single"}`, "zabbix");
        const include = path.join(dir, "db-password.conf");
        const listenPort = await freePort();
        const conf = await putFile(
            path.join(dir, "zabbix_server.conf"),
            renderZabbixServerConf({
                nodeName: name,
                nodeAddress: "127.0.0.1",
                listenPort,
                dbHost: "127.0.0.1",
                dbPort: db.port,
                dbName,
                dbUser: "zabbix",
                passwordInclude: include,
                logFile: path.join(dir, "zabbix_server.log"),
                pidFile: path.join(dir, "zabbix_server.pid"),
                socketDir: dir,
                sizing,
            }),
            0o640,
            "zabbix",
        );
        // The password include is written by the same step code as on a server host.
        ok(
            await runStep(
                putSecretFile(
                    include,
                    "ZABBIX_DB_PASSWORD",
                    "0640",
                    "root:zabbix",
                    zabbixServerPasswordTemplate("ZABBIX_DB_PASSWORD"),
                ),
                { ZABBIX_DB_PASSWORD: dbPassword },
            ),
        );
        return { name: name ?? "single", dir, conf, listenPort };
    }

    test("the schema step leaves a loaded schema alone when it runs again", async () => {
        const step = schemaStep({
            dbHost: "127.0.0.1",
            dbPort: db.port,
            dbName: "zabbix",
            dbUser: "zabbix",
            passwordVariable: "ZABBIX_DB_PASSWORD",
            schemaFiles: SCHEMA_FILES,
        });
        const again = ok(await runStep(step, { ZABBIX_DB_PASSWORD: dbPassword }));
        expect(again.output).toMatch(/Zabbix schema already loaded/);
        expect(await db.sql("select count(*) > 0 from users where username = 'Admin'", "zabbix")).toBe("t");
    });

    test("two nodes start and form a native HA cluster: one active, one standby", async () => {
        const servers = nodes.map(startNode);
        const [a, b] = nodes;
        const cluster = await waitFor(
            "one node active and the other standby in ha_node",
            async () => {
                const seen = await haNodes();
                const states = Object.values(seen)
                    .map(s => s.split(" ")[0])
                    .sort();
                return states.join(",") === "active,standby" ? seen : undefined;
            },
            {
                timeoutMs: 60_000,
                watch: servers,
                abort: () => dbTrouble(nodes),
                detail: async () => `ha_node: ${JSON.stringify(await haNodes().catch(e => e.message))}\n${logs()}`,
            },
        );
        // NodeAddress is what the frontend reads to reach the active node.
        expect(Object.keys(cluster)).toEqual([a.name, b.name]);
        expect(cluster[a.name]).toMatch(new RegExp(` 127\\.0\\.0\\.1:${a.listenPort}$`));
        expect(cluster[b.name]).toMatch(new RegExp(` 127\\.0\\.0\\.1:${b.listenPort}$`));
        for (const node of nodes) {
            expect(readLog(node)).toMatch(/HA manager started in (active|standby) mode/);
            // The password came through the Include= file: a wrong or missing one would have failed here.
            expect(readLog(node)).not.toMatch(/password authentication failed|unknown parameter|cannot (open|parse)/);
        }
    });

    test("when the active node stops, the standby takes over", async () => {
        const before = await haNodes();
        const active = nodes.find(n => before[n.name]?.startsWith("active "));
        if (!active) {
            throw new Error(`no active node to stop (ha_node: ${JSON.stringify(before)}): see the previous test`);
        }
        const standby = nodes.find(n => n !== active)!;
        await active.server!.stop();
        await waitFor(
            `${standby.name} to become active after ${active.name} stopped`,
            async () => {
                const seen = await haNodes();
                return seen[standby.name].startsWith("active ") && seen[active.name].startsWith("stopped ")
                    ? seen
                    : undefined;
            },
            {
                timeoutMs: 60_000,
                watch: [standby.server!],
                detail: async () => `ha_node: ${JSON.stringify(await haNodes())}\n${logs()}`,
            },
        );
    });

    describe("the prompt-takeover watcher, against Zabbix's own ha_node table", () => {
        let watcher: string;
        let stubDir: string;
        const calls = () => path.join(stubDir, "systemctl.calls");

        beforeAll(async () => {
            const dir = await scratch.dir("takeover");
            const include = await putFile(
                path.join(dir, "db-password.conf"),
                `${zabbixServerPasswordTemplate("X").replace("$X", dbPassword)}\n`,
                0o600,
            );
            watcher = await putFile(
                path.join(dir, "takeover-watch"),
                renderTakeoverScript({
                    nodeName: "node-b",
                    dbHost: "127.0.0.1",
                    dbPort: db.port,
                    dbName: "zabbix_takeover",
                    dbUser: "zabbix",
                    passwordInclude: include,
                    serverService: "zabbix-server",
                    failoverDelaySeconds: 10,
                    clusterNodes: ["node-a", "node-b", "node-c"],
                    serverConfig: "/etc/zabbix/zabbix_server.conf",
                }),
                0o700,
            );
            // systemd is the one part not here: a systemctl that records what it was asked (the lab's drills run the real one).
            stubDir = await scratch.dir("takeover-bin");
            await putFile(path.join(stubDir, "systemctl"), `#!/bin/sh\necho "systemctl $*" >> ${calls()}\n`, 0o755);
            // zabbix_server -R answers on the active node only; the stand-in records what it was asked.
            await putFile(
                path.join(stubDir, "zabbix_server"),
                `#!/bin/sh\necho "zabbix_server $*" >> ${calls()}\n`,
                0o755,
            );
        });

        /**
         * Sets ha_node to the given rows (lastaccess as seconds ago), runs the watcher for 3.5 s, returns what
         * it asked the stand-in program (systemctl, or zabbix_server's runtime control), each call once.
         */
        async function watchOver(
            rows: ReadonlyArray<{ name: string; status: number; secondsAgo: number }>,
            program = "systemctl",
        ): Promise<string[]> {
            await db.sql(
                `delete from ha_node; ${rows.map((r, i) => `insert into ha_node (ha_nodeid, name, status, lastaccess) values ('n${i}', '${r.name}', ${r.status}, extract(epoch from now())::int - ${r.secondsAgo});`).join(" ")}`,
                "zabbix_takeover",
            );
            await run("rm", ["-f", calls()]);
            const result = await run("timeout", ["3.5", "sh", watcher], {
                env: { PATH: `${stubDir}:${process.env.PATH}` },
            });
            expect(result.code).toBe(124);
            const lines = existsSync(calls()) ? readFileSync(calls(), "utf8").trim().split("\n") : [];
            return [...new Set(lines.filter(l => l.startsWith(`${program} `)).map(l => l.slice(program.length + 1)))];
        }

        test("restarts its standby node when the active node stopped gracefully moments ago and none is active", async () => {
            expect(
                await watchOver([
                    { name: "node-a", status: 1, secondsAgo: 3 },
                    { name: "node-b", status: 0, secondsAgo: 1 },
                ]),
            ).toEqual(["--no-block restart zabbix-server"]);
        });

        test("restarts its own node when another node is active too, fresh, and sorts first (the later name stands down)", async () => {
            expect(
                await watchOver([
                    { name: "node-a", status: 3, secondsAgo: 1 },
                    { name: "node-b", status: 3, secondsAgo: 0 },
                ]),
            ).toEqual(["--no-block restart zabbix-server"]);
        });

        test("on the active node: removes a departed node's row once it stopped or is unavailable, never a configured node's", async () => {
            expect(
                await watchOver(
                    [
                        { name: "node-b", status: 3, secondsAgo: 0 },
                        { name: "gone-1", status: 1, secondsAgo: 40 },
                        { name: "gone-2", status: 2, secondsAgo: 90 },
                        { name: "gone-3", status: 0, secondsAgo: 1 },
                        { name: "node-c", status: 1, secondsAgo: 90 },
                    ],
                    "zabbix_server",
                ),
            ).toEqual(
                expect.arrayContaining([
                    "-c /etc/zabbix/zabbix_server.conf -R ha_remove_node=gone-1",
                    "-c /etc/zabbix/zabbix_server.conf -R ha_remove_node=gone-2",
                ]),
            );
            const asked = await watchOver(
                [
                    { name: "node-b", status: 3, secondsAgo: 0 },
                    { name: "gone-3", status: 0, secondsAgo: 1 },
                    { name: "node-c", status: 1, secondsAgo: 90 },
                ],
                "zabbix_server",
            );
            expect(asked).toEqual([]);
        });

        test.each([
            [
                "another node is active",
                [
                    { name: "node-a", status: 3, secondsAgo: 1 },
                    { name: "node-b", status: 0, secondsAgo: 1 },
                ],
            ],
            [
                "it is active and the other active node sorts after it (that one's watcher acts)",
                [
                    { name: "node-b", status: 3, secondsAgo: 1 },
                    { name: "node-c", status: 3, secondsAgo: 1 },
                ],
            ],
            [
                "it is active and the other active row is stale (Zabbix's failover delay handles that)",
                [
                    { name: "node-a", status: 3, secondsAgo: 30 },
                    { name: "node-b", status: 3, secondsAgo: 1 },
                ],
            ],
            [
                "the active node crashed (unavailable: the failover delay's case)",
                [
                    { name: "node-a", status: 2, secondsAgo: 20 },
                    { name: "node-b", status: 0, secondsAgo: 1 },
                ],
            ],
            [
                "the stop was long ago",
                [
                    { name: "node-a", status: 1, secondsAgo: 120 },
                    { name: "node-b", status: 0, secondsAgo: 1 },
                ],
            ],
            [
                "this node is itself stopped",
                [
                    { name: "node-a", status: 1, secondsAgo: 3 },
                    { name: "node-b", status: 1, secondsAgo: 2 },
                ],
            ],
        ])("does nothing when %s", async (_, rows) => {
            expect(await watchOver(rows)).toEqual([]);
        });
    });

    test("a server rendered without native HA (a cluster manager runs it) starts in standalone mode", async () => {
        const single = await prepareNode(undefined, "zabbix_single");
        expect(readFileSync(single.conf, "utf8")).not.toMatch(/^HANodeName=/m);
        const server = startNode(single);
        await waitFor(
            "the server without HANodeName to start its HA manager",
            () => /HA manager started in active mode/.test(readLog(single)),
            { timeoutMs: 60_000, watch: [server], abort: () => dbTrouble([single]), detail: () => readLog(single) },
        );
        // Standalone: one nameless node, active; no cluster to join.
        expect(await db.sql("select name, status from ha_node", "zabbix_single")).toBe("|3");
        await server.stop();
    });

    test("zabbix_server refuses a configuration with an unknown parameter", async () => {
        const [node] = nodes;
        const bad = await putFile(
            path.join(node.dir, "bad.conf"),
            `${readFileSync(node.conf, "utf8")}NoSuchParameter=1\n`,
            0o640,
            "zabbix",
        );
        const result = await run("zabbix_server", ["-c", bad, "-f"], {
            user: "zabbix",
            cwd: node.dir,
            timeoutMs: 30_000,
        });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/unknown parameter "NoSuchParameter" in config file ".*bad\.conf", line \d+/);
    });
});

/** The first database error a server logged: it would retry forever, so a wait can stop at once. */
function dbTrouble(nodes: readonly Node[]): string | undefined {
    return nodes.map(n => /^.*\[Z3001\].*$/m.exec(readLog(n))?.[0]).find(Boolean);
}

function readLog(node: Node): string {
    const file = path.join(node.dir, "zabbix_server.log");
    return existsSync(file) ? readFileSync(file, "utf8") : "(no log yet)";
}
