/**
 * zabbix_server.conf, read by Debian's zabbix_server 6.0: two nodes rendered for native HA start
 * side by side against a scratch PostgreSQL holding the Zabbix schema, and form a cluster of one
 * active node and one standby. The schema is loaded by the library's own schema step, run by sh.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { putSecretFile } from "../../components/shell";
import { zabbixServerPasswordTemplate } from "../../components/zabbix/render";
import {
    Daemon,
    PgServer,
    freePort,
    ok,
    password,
    putFile,
    run,
    scratchSpace,
    TestPki,
    testPki,
    waitFor,
} from "./support";
import { loopbackSchemaStep, runStep, schemaSecrets, scratchServerConf, zabbixDatabase } from "./zabbix-db";

jest.setTimeout(150_000);

const scratch = scratchSpace();
const dbPassword = password();
const HA_STATUS: Record<string, string> = { 0: "standby", 1: "stopped", 2: "unavailable", 3: "active" };

interface Node {
    readonly name: string;
    readonly dir: string;
    readonly conf: string;
    readonly listenPort: number;
    server?: Daemon;
}

describe("zabbix_server with the rendered configuration", () => {
    let db: PgServer;
    let pki: TestPki;
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
        pki = await testPki(scratch);
        db = await zabbixDatabase(scratch, dbPassword, pki);
        nodes.push(await prepareNode("node-a", "zabbix"), await prepareNode("node-b", "zabbix"));
    });

    /** A server's dir, rendered config and password include; `name` undefined renders it without native HA. */
    async function prepareNode(name: string | undefined, dbName: string): Promise<Node> {
        const dir = await scratch.dir(`zabbix-${name ?? "single"}`, "zabbix");
        const include = path.join(dir, "db-password.conf");
        const listenPort = await freePort();
        const conf = await putFile(
            path.join(dir, "zabbix_server.conf"),
            scratchServerConf(dir, {
                nodeName: name,
                listenPort,
                dbPort: db.port,
                dbName,
                passwordInclude: include,
                dbTls: pki.db,
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
        const again = ok(await runStep(loopbackSchemaStep(db, "zabbix", pki.db), schemaSecrets(dbPassword)));
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
