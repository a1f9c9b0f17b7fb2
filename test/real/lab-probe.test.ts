/**
 * The lab's one probe (tools/lab/checks/probe.ts), which `up`'s checks, `status` and the drills ask
 * about a database's state, put to a scratch PostgreSQL 15 primary and a replica streaming from it,
 * through the lab's own psql client from this machine: whether each is in recovery, who streams, the
 * WAL receiver, Zabbix's HA nodes in a table of ha_node's shape, the sessions and their encryption,
 * and a question that takes too long or a login that fails becomes an error naming the server.
 */
import * as path from "path";
import {
    Ask,
    answeringServer,
    dbView,
    freshActive,
    fromMachine,
    haNodes,
    inRecovery,
    replicationStates,
    sessionsOf,
    walReceiverStatus,
    walWriter,
} from "../../tools/lab/checks";
import { clientConninfo, serverTlsSettings } from "../../components/postgres/tls";
import {
    PgServer,
    TestPki,
    basebackup,
    freePort,
    includeInPostgresConf,
    initPostgres,
    password,
    putFile,
    scratchSpace,
    testPki,
    waitFor,
} from "./support";

jest.setTimeout(120_000);

const scratch = scratchSpace();
/**
 * The roles the test makes, each with a generated password: the lab's admin login, replication, and
 * a role let in only without TLS, so that a cleartext session exists for the probe to report.
 */
const passwords = { admin: password(), replicator: password(), cleartext: password() };
/** The replica's application_name, by which the primary reports it. */
const REPLICA = "replica-1";

/**
 * Only TLS over TCP from 127.0.0.1, by SCRAM: the way the lab's machine reaches a DB host. The one
 * exception is the cleartext role, in clear only, which stands in for a client that skipped TLS.
 */
const HBA = [
    "local all postgres peer",
    "hostnossl zabbix cleartext 127.0.0.1/32 scram-sha-256",
    "hostssl all all 127.0.0.1/32 scram-sha-256",
    "hostssl replication replicator 127.0.0.1/32 scram-sha-256",
    "",
].join("\n");

let pki: TestPki;

async function configure(pg: PgServer, extra = ""): Promise<void> {
    await putFile(path.join(pg.data, "pg_hba.conf"), HBA, 0o600, "postgres");
    const tls = Object.entries(serverTlsSettings(pki.server)).map(([k, v]) => `${k} = '${v}'\n`);
    await pg.writeDataFile(
        "probe.conf",
        `listen_addresses = '127.0.0.1'\nport = ${pg.port}\npassword_encryption = 'scram-sha-256'\n${tls.join("")}${extra}`,
    );
    await includeInPostgresConf(pg, ["probe.conf"]);
}

describe("the lab's probe against PostgreSQL 15", () => {
    let primary: PgServer;
    let replica: PgServer;
    // As the stack's provider connects to a self-run cluster: verify-full against the stack's CA.
    const as = (pg: PgServer, pw = passwords.admin, database = "zabbix") => ({
        host: "127.0.0.1",
        port: String(pg.port),
        username: "admin",
        password: pw,
        database,
        sslmode: "verify-full",
        sslrootcert: pki.client.caFile,
        connectTimeout: "2",
    });
    const ask = (pg: PgServer, statementTimeoutMs?: number): Ask =>
        fromMachine(as(pg), { application: "zabbix-ha-probe-test", timeoutMs: 10_000, statementTimeoutMs });

    beforeAll(async () => {
        pki = await testPki(scratch);
        primary = await initPostgres(scratch, "probe-primary", await freePort());
        await configure(primary);
        await primary.start();
        await primary.sql(`create role admin login superuser password '${passwords.admin}'`);
        await primary.sql(`create role replicator login replication password '${passwords.replicator}'`);
        await primary.sql(`create role cleartext login password '${passwords.cleartext}'`);
        await primary.sql("create database zabbix owner admin");
        // Zabbix's ha_node, as far as the probe reads it: the name, the status code and the heartbeat's epoch second.
        await primary.sql(
            "create table ha_node (name varchar(255) primary key, status integer not null, lastaccess integer not null)",
            "zabbix",
        );
        await primary.sql(
            `insert into ha_node values ('node-a', 3, extract(epoch from now())::integer), ('node-b', 0, extract(epoch from now())::integer - 100)`,
            "zabbix",
        );
        const home = await scratch.dir("probe-home", "postgres");
        const passfile = await putFile(
            path.join(home, ".pgpass"),
            `*:*:replication:replicator:${passwords.replicator}\n`,
            0o600,
            "postgres",
        );
        replica = await basebackup(scratch, "probe-replica", await freePort(), {
            host: "127.0.0.1",
            port: primary.port,
            user: "replicator",
            passfile,
            tls: pki.client,
        });
        await configure(
            replica,
            `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=replicator passfile=${passfile} application_name=${REPLICA} ${clientConninfo(pki.client)}'\n`,
        );
        await replica.writeDataFile("standby.signal", "");
        await replica.start();
        await waitFor(
            "the replica to stream",
            async () =>
                (await replica.sql("select status from pg_stat_wal_receiver")) === "streaming" &&
                (await primary.sql("select state from pg_stat_replication")) === "streaming",
            { detail: () => replica.log() },
        );
    });

    test("a primary: not in recovery, writing WAL, taking writes, streaming to the replica by its application name", async () => {
        expect(await inRecovery(ask(primary))).toBe(false);
        expect(await walWriter(ask(primary))).toEqual({
            writable: true,
            insertLsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/),
        });
        expect(await answeringServer(ask(primary))).toEqual({ server: "127.0.0.1", writable: true });
        expect(await replicationStates(ask(primary))).toEqual(new Map([[REPLICA, "streaming"]]));
        expect(await walReceiverStatus(ask(primary))).toBe("no receiver");
    });

    test("a replica: in recovery, no writes, its WAL receiver streaming, no active node of its own counted", async () => {
        expect(await inRecovery(ask(replica))).toBe(true);
        expect(await walWriter(ask(replica))).toEqual({ writable: false });
        expect(await answeringServer(ask(replica))).toEqual({ server: "127.0.0.1", writable: false });
        expect(await walReceiverStatus(ask(replica))).toBe("streaming");
        expect(await dbView(ask(replica), 10)).toEqual({ writable: false, active: [] });
    });

    test("Zabbix's HA nodes: status by name, heartbeat age, the fresh active one", async () => {
        // The active node beats now (as a running node does every 5 s), so its age is the time the probe took.
        const beat = Date.now();
        await primary.sql(
            "update ha_node set lastaccess = extract(epoch from now())::integer where name = 'node-a'",
            "zabbix",
        );
        const nodes = await haNodes(ask(primary));
        const sinceBeat = Math.ceil((Date.now() - beat) / 1000);
        expect(nodes.map(n => [n.name, n.status])).toEqual([
            ["node-a", "active"],
            ["node-b", "standby"],
        ]);
        expect(nodes[0].age).toBeLessThanOrEqual(sinceBeat + 1);
        expect(nodes[1].age).toBeGreaterThanOrEqual(100);
        expect(freshActive(nodes, 10)).toEqual(["node-a"]);
        expect(await dbView(ask(primary), 10)).toEqual({ writable: true, active: ["node-a"] });
    });

    test("a role's sessions and whether they are encrypted (the probe's own is: verify-full; sslmode disable's is not)", async () => {
        expect(await sessionsOf(ask(primary), "admin")).toEqual(
            expect.arrayContaining([{ client: "127.0.0.1", ssl: true }]),
        );
        const inClear = fromMachine(
            { ...as(primary, passwords.cleartext), username: "cleartext", sslmode: "disable", sslrootcert: undefined },
            { application: "zabbix-ha-probe-test", timeoutMs: 10_000 },
        );
        expect(await sessionsOf(inClear, "cleartext")).toEqual([{ client: "127.0.0.1", ssl: false }]);
        expect(await sessionsOf(ask(primary), "nobody")).toEqual([]);
    });

    test("a refused login and a question past its statement timeout are errors naming the server", async () => {
        const wrong = fromMachine(as(primary, "not-the-password"), {
            application: "zabbix-ha-probe-test",
            timeoutMs: 10_000,
        });
        await expect(inRecovery(wrong)).rejects.toThrow(
            new RegExp(`^127\\.0\\.0\\.1:${primary.port}: .*password authentication failed for user "admin"`),
        );
        await expect(ask(primary, 500)("select pg_sleep(3)")).rejects.toThrow(
            /canceling statement due to statement timeout/,
        );
    });
});
