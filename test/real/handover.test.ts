/**
 * The hand-over's checks on real PostgreSQL 15, each in the case that broke it:
 *  - The stand-down step waits until the new primary has replayed the old one's last write before it
 *    stops it. A replica whose host died keeps its walsender, and the position it last reported, for
 *    wal_sender_timeout: with nothing written since, "replayed the current position" held for a dead
 *    replica, the old primary stopped, and the new one never received its shutdown checkpoint.
 *  - The promote step waits until a replica has replayed what it received. One restarted while its
 *    primary is gone reports the start of a segment as received, behind what it replayed from its own
 *    pg_wal: "received = replayed" never held, and the promotion gave up (seen on CI as "gave up:
 *    zha_replayed").
 */
import * as path from "path";
import { REPLICATION_ROLE, pgpassLine, renderPostgresConf } from "../../components/postgres/render";
import { HANDOVER_MARK_SQL, REPLAYED_ALL_RECEIVED_SQL, replayedUpToSql } from "../../components/postgres/steps";
import {
    PgServer,
    TestPki,
    basebackup,
    freePort,
    includeInPostgresConf,
    initPostgres,
    ok,
    password,
    putFile,
    run,
    scratchSpace,
    sleep,
    testPki,
    waitFor,
} from "./support";

jest.setTimeout(120_000);

const scratch = scratchSpace();
const REPLICA_NAME = "replica-1";
let pki: TestPki;

beforeAll(async () => {
    pki = await testPki(scratch);
});

/** Starts a cluster on its own port over TCP on 127.0.0.1 (the rendered postgresql.conf, as a host has it). */
async function serveOn(pg: PgServer, extra: string[] = []): Promise<void> {
    await pg.writeDataFile(
        "zabbix-ha.conf",
        renderPostgresConf({ listenAddresses: ["127.0.0.1"], port: pg.port, maxConnections: 20, tls: pki.server }) +
            extra.map(l => `${l}\n`).join(""),
    );
    await includeInPostgresConf(pg, ["zabbix-ha.conf"]);
    await pg.start();
}

/** A primary and a replica streaming from it, the primary holding a table of 1000 rows the replica replayed. */
async function streamingPair(label: string): Promise<{ primary: PgServer; replica: PgServer }> {
    const replicationPassword = password();
    const primary = await initPostgres(scratch, `${label}-primary`, await freePort());
    await primary.writeDataFile(
        "pg_hba.conf",
        `local all all peer\nhostssl replication ${REPLICATION_ROLE} 127.0.0.1/32 scram-sha-256\n`,
    );
    await serveOn(primary);
    await primary.sql(`create role ${REPLICATION_ROLE} login replication password '${replicationPassword}'`);
    const passfile = await putFile(
        path.join(await scratch.dir(`${label}-pgpass`, "postgres"), ".pgpass"),
        `${pgpassLine("*", "*", "replication", REPLICATION_ROLE, replicationPassword)}\n`,
        0o600,
        "postgres",
    );
    const replica = await basebackup(scratch, `${label}-replica`, await freePort(), {
        host: "127.0.0.1",
        port: primary.port,
        user: REPLICATION_ROLE,
        passfile,
        tls: pki.client,
        writeRecoveryConf: true,
    });
    // The walreceiver's application_name is the cluster's name, as a host's is its own.
    await serveOn(replica, [`cluster_name = '${REPLICA_NAME}'`]);
    await primary.sql("create table kept as select generate_series(1, 1000) as n");
    // The scratch servers commit without waiting for the flush: wait for the insert position, the commit included.
    const written = await primary.sql("select pg_current_wal_insert_lsn()");
    await waitFor(
        "the replica to replay the primary's rows",
        async () => (await replica.sql(`select pg_last_wal_replay_lsn() >= '${written}'`)) === "t",
    );
    return { primary, replica };
}

describe("a primary handing over to a replica whose host stopped answering", () => {
    let primary: PgServer;
    let receiver: number;
    let whileFrozen: string;

    beforeAll(async () => {
        const pair = await streamingPair("handover");
        primary = pair.primary;
        await waitFor(
            "the replica's walsender",
            async () =>
                (await primary.sql(replayedUpToSql(REPLICA_NAME, await primary.sql("select pg_current_wal_lsn()")))) ===
                "t",
        );
        // A host that died: its walreceiver answers nothing, its TCP connection stays open.
        receiver = Number(await pair.replica.sql("select pid from pg_stat_wal_receiver"));
        process.kill(receiver, "SIGSTOP");
        scratch.defer("resume the walreceiver", () => {
            try {
                process.kill(receiver, "SIGCONT");
            } catch {
                /* gone */
            }
        });
        const target = await primary.sql(HANDOVER_MARK_SQL);
        await sleep(3000);
        whileFrozen = await primary.sql(replayedUpToSql(REPLICA_NAME, target));
        process.kill(receiver, "SIGCONT");
        await waitFor(
            "the resumed replica to replay the hand-over's mark",
            async () => (await primary.sql(replayedUpToSql(REPLICA_NAME, target))) === "t",
            { timeoutMs: 20_000 },
        );
    });

    test("its stale walsender does not count as having replayed the hand-over's last write", () => {
        expect(whileFrozen).toBe("f");
    });

    test("the hand-over's mark is written while every transaction is read-only", async () => {
        await primary.sql("alter system set default_transaction_read_only = on");
        await primary.sql("select pg_reload_conf()");
        await waitFor(
            "read-only sessions",
            async () => (await primary.sql("show default_transaction_read_only")) === "on",
        );
        expect(await primary.sql(HANDOVER_MARK_SQL)).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    });
});

describe("a replica restarted while its primary is gone", () => {
    let replica: PgServer;
    let lsn: { received: string; replayed: string };

    beforeAll(async () => {
        const pair = await streamingPair("promote");
        replica = pair.replica;
        // The site is lost; then the replica restarts with nothing to stream from.
        await pair.primary.stop("immediate");
        await replica.stop("fast");
        await replica.start();
        const [received, replayed] = (
            await replica.sql("select pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()")
        ).split("|");
        lsn = { received, replayed };
    });

    test("it has replayed everything it received, by the promote step's own check", async () => {
        expect({ ...lsn, replayedAll: await replica.sql(REPLAYED_ALL_RECEIVED_SQL) }).toEqual({
            ...lsn,
            replayedAll: "t",
        });
    });

    test("promoted, it keeps every row it replayed and takes writes", async () => {
        ok(
            await run(
                "psql",
                ["-X", "-t", "-A", "-h", replica.dir, "-p", String(replica.port), "-c", "select pg_promote(true, 60)"],
                { user: "postgres", cwd: replica.dir },
            ),
        );
        expect(await replica.sql("select pg_is_in_recovery()")).toBe("f");
        expect(await replica.sql("insert into kept values (1001); select count(*) from kept")).toBe("1001");
    });
});
