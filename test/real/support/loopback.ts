/**
 * The loopback DB setup several real checks share: clusters on 127.0.0.1 with the rendered settings
 * and pg_hba.conf (127.0.0.1 is the only DB host, the clients' load balancer and the check's
 * source), the replication role's .pgpass, replication-protocol commands and the load balancer's
 * primary check installed in a scratch dir.
 */
import * as path from "path";
import { HaproxyInput, renderPrimaryCheckScript } from "../../../components/loadbalancer/render";
import {
    CHECK_ROLE,
    HbaRule,
    REPLICATION_ROLE,
    hbaRules,
    loadBalancerClients,
    pgpassLine,
    renderPgHba,
    renderPostgresConf,
} from "../../../components/postgres/render";
import { DbClientTls, PgClientTls, clientConninfo } from "../../../components/postgres/tls";
import { freePort } from "./network";
import { TestPki } from "./pki";
import { PSQL_BATCH, PgServer, basebackup, includeInPostgresConf, initPostgres, psqlTcp } from "./postgres";
import { RunOptions, RunResult, run } from "./processes";
import { Scratch, putFile } from "./scratch";

/** The hba rules of a cluster whose only host, clients and load balancer are all 127.0.0.1. */
export function loopbackHbaRules(dbName = "zabbix"): HbaRule[] {
    return hbaRules({
        dbName,
        dbUser: "zabbix",
        dbHosts: ["127.0.0.1"],
        clients: loadBalancerClients(["127.0.0.1"]),
        adminNetwork: "198.18.100.0/24",
    });
}

/** The postgres user's .pgpass with the replication role's password, in a scratch dir of its own. */
async function replicationPassfile(scratch: Scratch, replicationPassword: string): Promise<string> {
    return putFile(
        path.join(await scratch.dir("pgpass", "postgres"), ".pgpass"),
        `${pgpassLine("*", "*", "replication", REPLICATION_ROLE, replicationPassword)}\n`,
        0o600,
        "postgres",
    );
}

/**
 * Runs `command` over a replication connection (as the follow step opens one, verify-full against
 * `tls`'s CA) to 127.0.0.1:`port`.
 */
export function replicationCommand(
    port: number,
    passfile: string,
    tls: PgClientTls,
    command: string,
    opts: RunOptions = {},
): Promise<RunResult> {
    return run(
        "psql",
        [
            ...PSQL_BATCH,
            `host=127.0.0.1 port=${port} user=${REPLICATION_ROLE} dbname=replication replication=true connect_timeout=5 ${clientConninfo(tls)}`,
            "-c",
            command,
        ],
        { ...opts, env: { ...opts.env, PGPASSFILE: passfile } },
    );
}

/** A primary on 127.0.0.1 and its standby (pg_basebackup -R), both started, as DB hosts have them. */
export interface LoopbackPair {
    /** The read-write primary, with the check and replication roles. */
    readonly primary: PgServer;
    /** Its streaming standby, on its own port. */
    readonly standby: PgServer;
    /** The postgres user's .pgpass with the replication role's password, as a DB host has it. */
    readonly replicationPassfile: string;
}

/**
 * Starts a primary named `names[0]` on `ports[0]` with the rendered settings and pg_hba.conf, the
 * check role (`passwords.check`) and the replication role (`passwords.replication`), then its
 * standby named `names[1]` on `ports[1]`, copied over the replication connection. Both serve
 * `pki`'s certificate and verify each other against its CA.
 */
export async function loopbackPair(
    scratch: Scratch,
    names: readonly [string, string],
    ports: readonly [number, number],
    passwords: { readonly check: string; readonly replication: string },
    pki: TestPki,
): Promise<LoopbackPair> {
    const conf = (port: number) =>
        renderPostgresConf({ listenAddresses: ["127.0.0.1"], port, maxConnections: 50, tls: pki.server });
    const primary = await initPostgres(scratch, names[0], ports[0]);
    await primary.writeDataFile("zabbix-ha.conf", conf(ports[0]));
    await primary.writeDataFile("pg_hba.conf", renderPgHba({ rules: loopbackHbaRules() }));
    await includeInPostgresConf(primary, ["zabbix-ha.conf"]);
    await primary.start();
    await primary.sql(`create role ${CHECK_ROLE} login password '${passwords.check}'`);
    await primary.sql(`create role ${REPLICATION_ROLE} login replication password '${passwords.replication}'`);

    const passfile = await replicationPassfile(scratch, passwords.replication);
    const standby = await basebackup(scratch, names[1], ports[1], {
        host: "127.0.0.1",
        port: ports[0],
        user: REPLICATION_ROLE,
        passfile,
        tls: pki.client,
        writeRecoveryConf: true,
    });
    await standby.writeDataFile("zabbix-ha.conf", conf(ports[1]));
    await standby.start();
    return { primary, standby, replicationPassfile: passfile };
}

/** The load balancer's primary check and its .pgpass, as the lb step installs them, in `dir`. */
export async function installPrimaryCheck(
    dir: string,
    checkPassword: string,
    tls: PgClientTls,
): Promise<{ readonly checkPassfile: string; readonly checkScript: string }> {
    const checkPassfile = await putFile(
        path.join(dir, "pg-check.pgpass"),
        `${pgpassLine("*", "*", "postgres", CHECK_ROLE, checkPassword)}\n`,
        0o600,
    );
    const checkScript = await putFile(
        path.join(dir, "pg-is-primary"),
        renderPrimaryCheckScript({ user: CHECK_ROLE, passfile: checkPassfile, tls }),
        0o755,
    );
    return { checkPassfile, checkScript };
}

/**
 * A check-role session through a load balancer's DB port on loopback: which server answered, whether
 * it is in recovery, and whether the session is TLS ("port|f|t" from a writable primary over TLS).
 */
export function askThroughBalancer(port: number, passfile: string, tls: DbClientTls): Promise<RunResult> {
    return psqlTcp(
        { host: "127.0.0.1", port, user: CHECK_ROLE, db: "postgres", passfile, tls },
        "select inet_server_port(), pg_is_in_recovery(), ssl from pg_stat_ssl where pid = pg_backend_pid()",
    );
}

/**
 * The UI side of a scratch load balancer: HAProxy on 127.0.0.1 only (this shared host's other
 * addresses are not the test's), free HTTP and HTTPS ports, the test PKI's files.
 */
export async function loopbackBalancerUi(
    pki: TestPki,
): Promise<Pick<HaproxyInput, "bindAddress" | "tls" | "httpPort" | "httpsPort">> {
    return {
        bindAddress: "127.0.0.1",
        tls: { certificateWithKey: pki.haproxyPemFile, caFile: pki.client.caFile },
        httpPort: await freePort(),
        httpsPort: await freePort(),
    };
}
