/**
 * The PostgreSQL settings, role settings and pg_hba.conf, read by a scratch PostgreSQL 15 cluster:
 * it starts with them, applies every line, admits by SCRAM only whom the hba lists, and a replica
 * made the way the follow step makes one streams from the primary with the rendered role settings.
 */
import { readFileSync } from "fs";
import * as path from "path";
import {
    ADMIN_ROLE,
    CHECK_ROLE,
    REPLICATION_ROLE,
    pgpassLine,
    renderPgHba,
    renderPostgresConf,
    renderPostgresRoleConf,
    replicationSlotName,
} from "../../components/postgres/render";
import { putFile as putFileStep, script } from "../../components/shell";
import { postgresMaxConnections, sizeServer } from "../../components/sizing";
import {
    PgServer,
    RunResult,
    basebackup,
    freePort,
    includeInPostgresConf,
    initPostgres,
    loopbackHbaRules,
    password,
    psqlTcp,
    putFile,
    relayFrom,
    run,
    TestPki,
    scratchSpace,
    testPki,
    waitFor,
} from "./support";

jest.setTimeout(120_000);

const scratch = scratchSpace();
/** The stack's PKI stands in for the CA the servers' certificate is signed by. */
let pki: TestPki;
beforeAll(async () => {
    pki = await testPki(scratch);
});
const zabbixPassword = password();
const replicationPassword = password();
const REPLICA = "replica-1";
const SETTINGS = "zabbix-ha.conf";
const ROLE_SETTINGS = "zabbix-ha-role.conf";

/** Only 127.0.0.1 is a cluster host: a connection from 127.0.0.2 must be refused. */
const rules = loopbackHbaRules();
const maxConnections = postgresMaxConnections(
    sizeServer({ monitoredHosts: 10, items: 100, updateIntervalSeconds: 60 }),
    2,
);

function settings(port: number, hbaFile: string): string {
    return renderPostgresConf({ listenAddresses: ["127.0.0.1"], port, maxConnections, hbaFile, tls: pki.server });
}

/** The rendered files of one cluster: settings and role settings in the data dir, hba beside it. */
async function configure(pg: PgServer, files: { settings: string; role: string; hba: string }): Promise<void> {
    await putFile(path.join(pg.dir, "pg_hba.conf"), files.hba, 0o640, "postgres");
    await pg.writeDataFile(SETTINGS, files.settings);
    await pg.writeDataFile(ROLE_SETTINGS, files.role);
    await includeInPostgresConf(pg, [SETTINGS, ROLE_SETTINGS]);
}

describe("PostgreSQL 15 with the rendered settings and pg_hba.conf", () => {
    let primary: PgServer;
    const zabbix = (port: number, pw = zabbixPassword, tls = pki.db) =>
        psqlTcp({ host: "127.0.0.1", port, user: "zabbix", db: "zabbix", password: pw, tls }, "select current_user");

    beforeAll(async () => {
        primary = await initPostgres(scratch, "primary", await freePort());
        await configure(primary, {
            settings: settings(primary.port, path.join(primary.dir, "pg_hba.conf")),
            role: renderPostgresRoleConf({ role: "primary", synchronousStandbys: [] }),
            hba: renderPgHba({ rules }),
        });
        await primary.start();
        await primary.sql(`create role zabbix login password '${zabbixPassword}'`);
        await primary.sql("create database zabbix owner zabbix");
        await primary.sql(`create role ${REPLICATION_ROLE} login replication password '${replicationPassword}'`);
        await primary.sql(`create role ${CHECK_ROLE} login password '${password()}'`);
        await primary.sql(`create role ${ADMIN_ROLE} login superuser password '${password()}'`);
    });

    test("every line of the rendered settings is read and applied, without error", async () => {
        const rows = await primary.sql(
            `select name, applied, coalesce(error, '') from pg_file_settings where sourcefile like '%/${SETTINGS}' or sourcefile like '%/${ROLE_SETTINGS}' order by seqno`,
        );
        const rendered = [
            settings(primary.port, "x"),
            renderPostgresRoleConf({ role: "primary", synchronousStandbys: [] }),
        ].flatMap(text =>
            text
                .split("\n")
                .filter(l => /^\w+ = /.test(l))
                .map(l => l.split(" = ")[0]),
        );
        expect(rows.split("\n")).toEqual(rendered.map(name => `${name}|t|`));
        expect(await primary.sql("show hba_file")).toBe(path.join(primary.dir, "pg_hba.conf"));
        expect(await primary.sql("show password_encryption")).toBe("scram-sha-256");
        expect(await primary.sql("show wal_level")).toBe("replica");
    });

    test("every rendered hba rule is read without error", async () => {
        const rows = await primary.sql(
            "select type, database[1], user_name[1], coalesce(address, ''), auth_method, coalesce(error, '') from pg_hba_file_rules order by line_number",
        );
        expect(rows.split("\n")).toEqual([
            "local|all|postgres||peer|",
            ...rules.map(r => `hostssl|${r.database}|${r.user}|${r.source.split("/")[0]}|scram-sha-256|`),
        ]);
    });

    test("a client from an address the hba lists logs in with its password, by SCRAM", async () => {
        const result = await zabbix(primary.port);
        expect(result.output).toBe("zabbix\n");
        expect(result.code).toBe(0);
        expect(
            await primary.sql("select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = 'zabbix'"),
        ).toBe("t");
        const wrong = await zabbix(primary.port, "not-the-password");
        expect(wrong.code).not.toBe(0);
        expect(wrong.output).toMatch(/password authentication failed for user "zabbix"/);
    });

    test("a client's session is encrypted: it shows in pg_stat_ssl with TLS 1.2 or newer", async () => {
        const result = await psqlTcp(
            {
                host: "127.0.0.1",
                port: primary.port,
                user: "zabbix",
                db: "zabbix",
                password: zabbixPassword,
                tls: pki.db,
            },
            "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()",
        );
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/^t\|TLSv1\.[23]\n$/);
    });

    test("a client without TLS is refused: every host rule is hostssl", async () => {
        const result = await zabbix(primary.port, zabbixPassword, { sslmode: "disable" });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(
            /no pg_hba\.conf entry for host "127\.0\.0\.1", user "zabbix", database "zabbix", no encryption/,
        );
    });

    test("a client that verifies against another CA refuses the server's certificate", async () => {
        const other = await testPki(scratch, "Another CA");
        const result = await zabbix(primary.port, zabbixPassword, other.db);
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/certificate verify failed/);
    });

    test("a client from an address the hba does not list is refused", async () => {
        const result = await zabbix(await relayFrom(scratch, "127.0.0.2", { host: "127.0.0.1", port: primary.port }));
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(
            /no pg_hba\.conf entry for host "127\.0\.0\.2", user "zabbix", database "zabbix"/,
        );
    });

    test("over the local socket only the postgres OS user gets in (peer)", async () => {
        const result = await psqlTcp(
            { host: primary.dir, port: primary.port, user: "postgres", db: "postgres", tls: pki.db },
            "select 1",
        );
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/Peer authentication failed for user "postgres"/);
    });

    describe("a replica with the rendered replica role settings", () => {
        let replica: PgServer;
        const slot = replicationSlotName(REPLICA);

        beforeAll(async () => {
            // As the follow step does it: a slot per replica, pg_basebackup with the postgres user's .pgpass.
            await primary.sql(`select pg_create_physical_replication_slot('${slot}')`);
            const home = await scratch.dir("pg-home", "postgres");
            const passfile = await putFile(
                path.join(home, ".pgpass"),
                `${pgpassLine("*", "*", "replication", REPLICATION_ROLE, replicationPassword)}\n`,
                0o600,
                "postgres",
            );
            replica = await basebackup(scratch, REPLICA, await freePort(), {
                host: "127.0.0.1",
                port: primary.port,
                user: REPLICATION_ROLE,
                passfile,
                tls: pki.client,
                slot,
            });
            await configure(replica, {
                settings: settings(replica.port, path.join(replica.dir, "pg_hba.conf")),
                role: renderPostgresRoleConf({
                    role: "replica",
                    primaryAddress: "127.0.0.1",
                    primaryPort: primary.port,
                    replicationUser: REPLICATION_ROLE,
                    applicationName: REPLICA,
                    slotName: slot,
                    passfile,
                    tls: pki.client,
                }),
                hba: renderPgHba({ rules }),
            });
            await replica.writeDataFile("standby.signal", "");
            await replica.start();
        });

        test("streams from the primary through its slot", async () => {
            await waitFor(
                "the replica's WAL receiver to stream",
                async () => (await replica.sql("select status from pg_stat_wal_receiver")) === "streaming",
                { detail: () => replica.log() },
            );
            expect(await primary.sql(`select application_name, state from pg_stat_replication`)).toBe(
                `${REPLICA}|streaming`,
            );
            // The walreceiver's session on the primary is encrypted (primary_conninfo is verify-full).
            expect(await primary.sql("select s.ssl from pg_stat_ssl s join pg_stat_replication r using (pid)")).toBe(
                "t",
            );
            expect(await primary.sql(`select active from pg_replication_slots where slot_name = '${slot}'`)).toBe("t");
            await primary.sql("create table replicated as select 42 as answer", "zabbix");
            await waitFor(
                "a write on the primary to reach the replica",
                async () => (await replica.sql("select answer from replicated", "zabbix")) === "42",
            );
        });

        test("the rendered synchronous primary settings make it the quorum standby", async () => {
            await primary.writeDataFile(
                ROLE_SETTINGS,
                renderPostgresRoleConf({ role: "primary", synchronousStandbys: [REPLICA] }),
            );
            await primary.sql("select pg_reload_conf()");
            await waitFor(
                "the replica to become a quorum standby",
                async () => (await primary.sql("select sync_state from pg_stat_replication")) === "quorum",
            );
            // A commit now waits for the replica, and it answers.
            await primary.sql("insert into replicated values (43)", "zabbix");
        });
    });
});

describe("PostgreSQL 15 refuses broken files", () => {
    let broken: PgServer;
    const hbaFile = () => path.join(broken.dir, "pg_hba.conf");
    const role = renderPostgresRoleConf({ role: "primary", synchronousStandbys: [] });

    /** pg_ctl's answer and the server log: the reason for a refusal is in the log. */
    async function start(): Promise<RunResult & { log: string }> {
        const result = await broken.tryStart();
        return { ...result, log: broken.log() };
    }

    beforeAll(async () => {
        broken = await initPostgres(scratch, "broken", await freePort());
    });

    test("a pg_hba.conf line with an unknown method stops it from starting", async () => {
        const hba = renderPgHba({ rules }).replace(/scram-sha-256\n/, "scram-sha-257\n");
        await configure(broken, { settings: settings(broken.port, hbaFile()), role, hba });
        const result = await start();
        expect(result.code).not.toBe(0);
        expect(result.log).toMatch(/invalid authentication method "scram-sha-257"/);
        expect(result.log).toMatch(/could not load .*pg_hba\.conf/);
    });

    test("an unknown parameter in the settings file stops it from starting", async () => {
        const bad = `${settings(broken.port, hbaFile())}wal_levle = replica\n`;
        await configure(broken, { settings: bad, role, hba: renderPgHba({ rules }) });
        const result = await start();
        expect(result.code).not.toBe(0);
        expect(result.log).toMatch(/unrecognized configuration parameter "wal_levle" in file ".*zabbix-ha\.conf"/);
    });
});

describe("a drop-in into a conf.d the library creates (RHEL's data dir has none)", () => {
    let rhelLike: PgServer;

    beforeAll(async () => {
        rhelLike = await initPostgres(scratch, "rhel-like", await freePort());
    });

    test("the step makes the directory its service can read, under the steps' umask 077", async () => {
        const dropIn = path.join(rhelLike.data, "conf.d", SETTINGS);
        const hba = path.join(rhelLike.dir, "pg_hba.conf");
        await putFile(hba, renderPgHba({ rules }), 0o640, "postgres");
        const step = script(putFileStep(dropIn, settings(rhelLike.port, hba), "0644", "postgres:postgres"));
        const ran = await run("sh", ["-c", step]);
        expect(ran.code).toBe(0);
        // Before, `mkdir -p` left conf.d 0700 root: PostgreSQL could not open it and did not start.
        expect(await run("stat", ["-c", "%U:%G", path.dirname(dropIn)])).toMatchObject({
            stdout: "postgres:postgres\n",
        });
        await putFile(
            path.join(rhelLike.data, "postgresql.conf"),
            `${readFileSync(path.join(rhelLike.data, "postgresql.conf"), "utf8")}\ninclude_dir = 'conf.d'\n`,
            0o600,
            "postgres",
        );
        await rhelLike.start();
        expect(await rhelLike.sql("show hba_file")).toBe(hba);
        // Run again, the step leaves an existing directory as it is.
        expect((await run("sh", ["-c", step])).code).toBe(0);
    });
});
