/**
 * The prompt-takeover watcher, rendered for node-b of a three-node cluster, run by sh against
 * Zabbix's own ha_node table in a scratch database holding the real schema: it asks systemd (a
 * stub that records the call) to restart the local server only when the rows say it should, and
 * marks a stale active row unavailable only when Zabbix's own test says that node cannot act.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { zabbixServerPasswordTemplate } from "../../components/zabbix/render";
import { renderTakeoverScript } from "../../components/zabbix/render";
import { PgServer, TestPki, password, putFile, run, scratchSpace, testPki } from "./support";
import { zabbixDatabase } from "./zabbix-db";

jest.setTimeout(150_000);

const scratch = scratchSpace();
const dbPassword = password();

describe("zabbix_server with the rendered configuration", () => {
    let db: PgServer;
    let pki: TestPki;

    beforeAll(async () => {
        pki = await testPki(scratch);
        // pg_hba.conf admits TLS sessions only: every row the watcher reads or marks came over verify-full.
        db = await zabbixDatabase(scratch, dbPassword, pki);
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
                    dbTls: pki.db,
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

        test("marks an active node unavailable once its heartbeat is older than the failover delay, under Zabbix's row lock, and restarts nothing", async () => {
            expect(
                await watchOver([
                    { name: "node-a", status: 3, secondsAgo: 11 },
                    { name: "node-b", status: 0, secondsAgo: 1 },
                    { name: "node-c", status: 0, secondsAgo: 2 },
                ]),
            ).toEqual([]);
            // node-b's and node-c's next poll finds no active node: Zabbix's own standby step, done sooner.
            expect(await db.sql("select name, status from ha_node order by name", "zabbix_takeover")).toBe(
                "node-a|2\nnode-b|0\nnode-c|0",
            );
        });

        test.each([
            ["the active node's heartbeat is within the failover delay (for the 3.5 s watched)", 5, 1],
            ["this standby's own heartbeat is stale (its HA manager could not take over)", 11, 12],
        ])("leaves the active row alone when %s", async (_, activeAgo, ownAgo) => {
            expect(
                await watchOver([
                    { name: "node-a", status: 3, secondsAgo: activeAgo },
                    { name: "node-b", status: 0, secondsAgo: ownAgo },
                ]),
            ).toEqual([]);
            expect(await db.sql("select status from ha_node where name = 'node-a'", "zabbix_takeover")).toBe("3");
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
                "it is active and the other active row is stale (the standby's watcher acts, if any)",
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
});
