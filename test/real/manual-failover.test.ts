/**
 * Never two writers, with real PostgreSQL 15 servers, the real HAProxy and the rendered scripts. A
 * primary is superseded the way a lost site's primary is: its replica is promoted while it is down,
 * and then it starts again, writable, on the old timeline.
 *  - The load balancer's DB port (HAProxy with the rendered haproxy.cfg, the check script and the
 *    newest-primary watcher running as they do on a load balancer) leads only to the promoted one,
 *    from the moment HAProxy starts, though the superseded one is listed first (as a stale
 *    configuration would list it).
 *  - The fence, before a start (`pg-fence boot`), turns the superseded primary's data into a standby's;
 *    while it runs (`pg-fence watch`), it stops it and keeps it a standby.
 *  - The replication protocol the follow step uses: a replica makes and drops its own slot on the
 *    primary through its replication connection, and a standby can drop slots it kept.
 */
import { existsSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { DB_PROXY, renderNewestPrimaryWatch } from "../../components/loadbalancer/render";
import { renderHaproxyCfg } from "../../components/loadbalancer/render";
import { PRIMARY_TIMELINE_SQL, renderFenceScript } from "../../components/postgres/fence";
import { RECEIVER_SQL } from "../../components/postgres/replicaSteps";
import { CHECK_ROLE, REPLICATION_ROLE, pgpassLine, renderPostgresConf } from "../../components/postgres/render";
import { clientConninfo } from "../../components/postgres/tls";
import {
    askThroughBalancer,
    basebackup,
    freePort,
    includeInPostgresConf,
    installPrimaryCheck,
    loopbackBalancerUi,
    loopbackPair,
    ok,
    password,
    PG_BIN,
    PgServer,
    putFile,
    replicationCommand,
    run,
    scratchSpace,
    serverStatus,
    sleep,
    TestPki,
    testPki,
    waitFor,
} from "./support";

jest.setTimeout(180_000);

const scratch = scratchSpace();
const checkPassword = password();
const replicationPassword = password();

describe("a superseded primary that comes back writable", () => {
    let old: PgServer;
    let promoted: PgServer;
    let lbDir: string;
    let checkPassfile: string;
    let checkScript: string;
    let lbDbPort: number;
    /** The postgres user's .pgpass with the replication role's password, as a DB host has it. */
    let replicationPassfile: string;
    /** The certificate both servers serve and the CA every client (check, watcher, fence, replica) verifies. */
    let pki: TestPki;

    const timeline = async (pg: PgServer) => pg.sql(PRIMARY_TIMELINE_SQL);

    beforeAll(async () => {
        pki = await testPki(scratch);
        const [oldPort, promotedPort] = [await freePort(), await freePort()];
        ({
            primary: old,
            standby: promoted,
            replicationPassfile,
        } = await loopbackPair(
            scratch,
            ["old-primary", "promoted"],
            [oldPort, promotedPort],
            { check: checkPassword, replication: replicationPassword },
            pki,
        ));
        expect(await promoted.sql("select pg_is_in_recovery()")).toBe("t");

        // The lost site: its primary stops, the replica is promoted (a new timeline), then it starts again as it was.
        await old.stop("immediate");
        ok(await run("pg_ctl", ["-w", "-D", promoted.data, "promote"], { user: "postgres", cwd: promoted.dir }));
        await waitFor(
            "the promoted server to accept writes",
            async () => (await promoted.sql("select pg_is_in_recovery()")) === "f",
        );
        await old.start();
        expect(await old.sql("select pg_is_in_recovery()")).toBe("f");

        lbDir = await scratch.dir("lb");
        ({ checkPassfile, checkScript } = await installPrimaryCheck(lbDir, checkPassword, pki.client));
        lbDbPort = await freePort();
    });

    test("both accept writes, the superseded one on an earlier timeline", async () => {
        expect(await old.sql("select pg_is_in_recovery()")).toBe("f");
        expect(await promoted.sql("select pg_is_in_recovery()")).toBe("f");
        expect(parseInt(await timeline(promoted), 16)).toBeGreaterThan(parseInt(await timeline(old), 16));
    });

    test("HAProxy's DB port leads only to the promoted one from the moment it starts, though the superseded one is listed first", async () => {
        // The stale configuration's order: the superseded one first, as it was the configured primary.
        const dbServers = [
            { name: "superseded", address: "127.0.0.1", port: old.port },
            { name: "promoted", address: "127.0.0.1", port: promoted.port },
        ];
        const socket = path.join(lbDir, "admin.sock");
        const cfg = await putFile(
            path.join(lbDir, "haproxy.cfg"),
            renderHaproxyCfg({
                site: "test",
                ...(await loopbackBalancerUi(pki)),
                localFrontends: [{ name: "web", address: "127.0.0.1", port: await freePort() }],
                remoteFrontends: [],
                dbPort: lbDbPort,
                dbServers,
                dbAllowedSources: ["127.0.0.1"],
                primaryCheckCommand: checkScript,
                runDir: lbDir,
            }),
        );
        const watch = await putFile(
            path.join(lbDir, "newest-primary-watch"),
            renderNewestPrimaryWatch({
                user: CHECK_ROLE,
                passfile: checkPassfile,
                servers: dbServers,
                adminSocket: socket,
                tls: pki.client,
            }),
            0o755,
        );
        // The watcher first (it waits for HAProxy's socket), then HAProxy; clients knock from the first moment.
        const watcher = scratch.daemon("newest-primary-watch", watch, []);
        const haproxy = scratch.daemon("haproxy", "haproxy", ["-db", "-f", cfg], { cwd: lbDir });
        const answers: string[] = [];
        const until = Date.now() + 6000;
        while (Date.now() < until) {
            const answer = await askThroughBalancer(lbDbPort, checkPassfile, pki.db);
            if (answer.code === 0) {
                answers.push(answer.stdout.trim());
            }
        }
        expect(answers.length).toBeGreaterThan(5);
        expect([...new Set(answers)]).toEqual([`${promoted.port}|f|t`]);
        // The superseded one is held in maintenance, though its own check alone would pass it.
        const check = (port: number) =>
            run("sh", [checkScript, "0.0.0.0", String(lbDbPort), "127.0.0.1", String(port)]);
        expect((await check(old.port)).code).toBe(0);
        expect(await serverStatus(socket, DB_PROXY)).toEqual({ superseded: "MAINT", promoted: "UP" });
        await haproxy.stop();
        await watcher.stop();
    });

    test("the fence, before a start: the superseded primary's data starts as a standby, marked superseded", async () => {
        await old.stop("fast");
        const fenceDir = await scratch.dir("fence");
        const mark = path.join(fenceDir, "postgres-role");
        const fence = await putFile(path.join(fenceDir, "pg-fence"), renderFence(old, promoted, fenceDir, mark), 0o755);
        const booted = ok(await run("sh", [fence, "boot"]));
        expect(booted.stdout).toMatch(
            /not starting as a primary: 127\.0\.0\.1:\d+ \(timeline 2\) accepts writes on a later timeline than this one \(1\)/,
        );
        expect(existsSync(path.join(old.data, "standby.signal"))).toBe(true);
        expect(readFileSync(mark, "utf8").trim()).toBe("superseded");
        await old.start();
        expect(await old.sql("select pg_is_in_recovery()")).toBe("t");
        // A standby, or a primary whose peers are all older, passes the look unchanged.
        ok(await run("sh", [fence, "boot"]));
        expect(readFileSync(mark, "utf8").trim()).toBe("superseded");
    });

    test("the fence, while it runs: a superseded primary that accepts writes is stopped and kept a standby", async () => {
        await old.stop("fast");
        ok(await run("rm", ["-f", path.join(old.data, "standby.signal")]));
        await old.start();
        expect(await old.sql("select pg_is_in_recovery()")).toBe("f");
        const fenceDir = await scratch.dir("fence-watch");
        const mark = path.join(fenceDir, "postgres-role");
        // `systemctl stop <unit>` on a host; here a stand-in that stops the scratch cluster the same way.
        const bin = await scratch.dir("fake-systemctl");
        await putFile(
            path.join(bin, "systemctl"),
            `#!/bin/sh\n[ "$1" = stop ] && exec runuser -u postgres -- ${PG_BIN}/pg_ctl -w -D '${old.data}' -m fast stop\nexit 1\n`,
            0o755,
        );
        const fence = await putFile(path.join(fenceDir, "pg-fence"), renderFence(old, promoted, fenceDir, mark), 0o755);
        const watcher = scratch.daemon("pg-fence watch", fence, ["watch"], {
            env: { PATH: `${bin}:${process.env.PATH}` },
        });
        await waitFor(
            "the fence to stop the superseded primary",
            () => !existsSync(path.join(old.data, "postmaster.pid")) && existsSync(mark),
            { timeoutMs: 30_000, detail: () => watcher.output() },
        );
        expect(watcher.output()).toMatch(
            /this primary was superseded: 127\.0\.0\.1:\d+ \(timeline 2\) accepts writes on a later timeline/,
        );
        expect(existsSync(path.join(old.data, "standby.signal"))).toBe(true);
        expect(readFileSync(mark, "utf8").trim()).toBe("superseded");
        await watcher.stop();
        await old.start();
        expect(await old.sql("select pg_is_in_recovery()")).toBe("t");
        // The promoted one, alone writable and the newest, is left alone.
        expect(await promoted.sql("select pg_is_in_recovery()")).toBe("f");
    });

    test("a replica makes and drops its own slot through its replication connection; a standby drops slots it kept", async () => {
        const onPrimary = (command: string) =>
            replicationCommand(promoted.port, replicationPassfile, pki.client, command);
        ok(await onPrimary("CREATE_REPLICATION_SLOT zabbix_ha_test PHYSICAL RESERVE_WAL"));
        expect((await onPrimary("CREATE_REPLICATION_SLOT zabbix_ha_test PHYSICAL RESERVE_WAL")).output).toMatch(
            /already exists/,
        );
        expect(
            await promoted.sql(
                "select slot_type, restart_lsn is not null from pg_replication_slots where slot_name = 'zabbix_ha_test'",
            ),
        ).toBe("physical|t");
        ok(await onPrimary("DROP_REPLICATION_SLOT zabbix_ha_test WAIT"));
        expect(await promoted.sql("select count(*) from pg_replication_slots")).toBe("0");
        expect((await onPrimary("DROP_REPLICATION_SLOT zabbix_ha_test WAIT")).output).toMatch(/does not exist/);

        // The old primary, a standby now, may still hold a slot it made for its replicas back then.
        await old.stop("fast");
        ok(await run("rm", ["-f", path.join(old.data, "standby.signal")]));
        await old.start();
        await old.sql("select pg_create_physical_replication_slot('zabbix_ha_stale', true)");
        await old.stop("fast");
        await old.writeDataFile("standby.signal", "");
        await old.start();
        expect(await old.sql("select pg_is_in_recovery()")).toBe("t");
        expect(
            await old.sql(
                "select count(pg_drop_replication_slot(slot_name)) from pg_replication_slots where left(slot_name, 10) = 'zabbix_ha_' and not active",
            ),
        ).toBe("1");
        expect(await old.sql("select count(*) from pg_replication_slots")).toBe("0");
    });

    test("the follow step's check: a superseded primary pointed at the promoted one never streams on its timeline, a copy of the promoted one does", async () => {
        const identify = ok(
            await replicationCommand(promoted.port, replicationPassfile, pki.client, "IDENTIFY_SYSTEM", {
                user: "postgres",
                cwd: "/",
            }),
        );
        const following = `streaming:${identify.stdout.trim().split("|")[1]}`;
        expect(following).toBe("streaming:2");

        // The old primary, a standby on timeline 1 with writes past the fork, told to follow the promoted one.
        await old.stop("fast");
        await old.writeDataFile(
            "zabbix-ha-follow.conf",
            `primary_conninfo = 'host=127.0.0.1 port=${promoted.port} user=${REPLICATION_ROLE} passfile=${replicationPassfile} application_name=old ${clientConninfo(pki.client)}'\n`,
        );
        await includeInPostgresConf(old, ["zabbix-ha-follow.conf"]);
        await old.start();
        const seen = new Set<string>();
        for (const until = Date.now() + 10_000; Date.now() < until; await sleep(200)) {
            seen.add(await old.sql(RECEIVER_SQL));
        }
        expect([...seen]).not.toContain(following);

        const copy = await basebackup(scratch, "copy-of-promoted", await freePort(), {
            host: "127.0.0.1",
            port: promoted.port,
            user: REPLICATION_ROLE,
            passfile: replicationPassfile,
            tls: pki.client,
            writeRecoveryConf: true,
        });
        await copy.writeDataFile(
            "zabbix-ha.conf",
            renderPostgresConf({
                listenAddresses: ["127.0.0.1"],
                port: copy.port,
                maxConnections: 50,
                tls: pki.server,
            }),
        );
        await copy.start();
        await waitFor(
            "the copy to stream on the promoted one's timeline",
            async () => (await copy.sql(RECEIVER_SQL)) === following,
            { timeoutMs: 30_000 },
        );
    });

    function renderFence(self: PgServer, peer: PgServer, dir: string, mark: string): string {
        // The check role's .pgpass, as the config step writes it (root's, 0600).
        const passfile = path.join(dir, "pg-fence.pgpass");
        writeFileSync(passfile, `${pgpassLine("*", "*", "postgres", CHECK_ROLE, checkPassword)}\n`, { mode: 0o600 });
        return renderFenceScript({
            peers: [`127.0.0.1:${peer.port}`],
            checkUser: CHECK_ROLE,
            passfile,
            port: self.port,
            dataDir: self.data,
            binDir: PG_BIN,
            service: "postgresql@test",
            socketDir: self.dir,
            roleMark: mark,
            tls: pki.client,
        });
    }
});
