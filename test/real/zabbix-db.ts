/**
 * The scratch Zabbix database of the zabbix_server checks: PostgreSQL 15 on 127.0.0.1 with the
 * rendered settings and pg_hba.conf, the role and database the PostgreSQL provider makes, and the
 * Zabbix schema loaded by the library's own schema step, run by sh.
 */
import { hashSync } from "bcryptjs";
import * as path from "path";
import { renderPgHba, renderPostgresConf } from "../../components/postgres/render";
import { renderZabbixServerConf } from "../../components/zabbix/render";
import { schemaStep } from "../../components/postgres/schema";
import { readSecrets, script } from "../../components/shell";
import { postgresMaxConnections, sizeServer } from "../../components/sizing";
import { platformFor, zabbixLayout } from "../../components/platform";
import { DbClientTls } from "../../components/postgres/tls";
import {
    PgServer,
    Scratch,
    TestPki,
    freePort,
    includeInPostgresConf,
    initPostgres,
    loopbackHbaRules,
    ok,
    password,
    requireFile,
    run,
} from "./support";
import { Chroot } from "./support/chroot";

/** What the scratch servers are sized for. */
export const sizing = sizeServer({ monitoredHosts: 10, items: 100, updateIntervalSeconds: 60 });

/**
 * zabbix_server.conf as the stack renders it for a scratch node of this machine's zabbix_server
 * (Debian 12's 6.0) on 127.0.0.1, its log, pid and socket in `dir`, its DB session secured by
 * `dbTls`; `nodeName` undefined renders it without native HA.
 */
export function scratchServerConf(
    dir: string,
    c: {
        nodeName?: string;
        listenPort: number;
        dbPort: number;
        dbName: string;
        passwordInclude: string;
        dbTls: DbClientTls;
    },
): string {
    return renderZabbixServerConf({
        version: "6.0",
        nodeName: c.nodeName,
        nodeAddress: "127.0.0.1",
        listenPort: c.listenPort,
        dbHost: "127.0.0.1",
        dbPort: c.dbPort,
        dbName: c.dbName,
        dbUser: "zabbix",
        dbTls: c.dbTls,
        passwordInclude: c.passwordInclude,
        logFile: path.join(dir, "zabbix_server.log"),
        pidFile: path.join(dir, "zabbix_server.pid"),
        socketDir: dir,
        sizing,
    });
}
/** Debian's own Zabbix 6.0 packaging: the schema in three files, loaded in this order. */
export const SCHEMA_FILES = zabbixLayout(platformFor("debian12"), "distribution").schemaFiles;

/** Runs a step script the way a host does: `sh -c`, secrets on stdin; with this machine's sh, or a root's. */
export function runStep(body: string, secrets: Record<string, string>, root?: Chroot) {
    const text = script(readSecrets(Object.keys(secrets)), body);
    const opts = {
        input: Object.values(secrets)
            .map(v => `${v}\n`)
            .join(""),
        timeoutMs: 120_000,
    };
    return root ? root.run("sh", ["-c", text], opts) : run("sh", ["-c", text], opts);
}

/**
 * A started cluster on 127.0.0.1 with the rendered settings (serving `pki`'s certificate), a
 * pg_hba.conf that admits role zabbix (password `dbPassword`) to each of `dbNames` from 127.0.0.1
 * over TLS only, and that role; no database yet. The servers connect from 127.0.0.1, where in
 * production the site's load balancer is.
 */
export async function zabbixCluster(
    scratch: Scratch,
    name: string,
    dbPassword: string,
    dbNames: readonly string[],
    pki: TestPki,
): Promise<PgServer> {
    const db = await initPostgres(scratch, name, await freePort());
    await db.writeDataFile(
        "zabbix-ha.conf",
        renderPostgresConf({
            listenAddresses: ["127.0.0.1"],
            port: db.port,
            maxConnections: postgresMaxConnections(sizing, 1),
            tls: pki.server,
        }),
    );
    await db.writeDataFile("pg_hba.conf", renderPgHba({ rules: dbNames.flatMap(n => loopbackHbaRules(n)) }));
    await includeInPostgresConf(db, ["zabbix-ha.conf"]);
    await db.start();
    await db.sql(`create role zabbix login password '${dbPassword}'`);
    return db;
}

/**
 * The Super Admin's password of the scratch installations, and its bcrypt hash at the real
 * provider's cost (10; the capture's own are cheaper): what the schema step sets on `Admin`.
 */
export const SUPER_ADMIN_PASSWORD = password();
export const SUPER_ADMIN_HASH = hashSync(SUPER_ADMIN_PASSWORD, 10);

/**
 * The library's schema step for database `dbName` on 127.0.0.1:`db.port`, its session secured by
 * `dbTls`, the password in ZABBIX_DB_PASSWORD, the Super Admin's hash in ZABBIX_ADMIN_PASSWORD_HASH
 * (schemaSecrets).
 */
export function loopbackSchemaStep(
    db: { readonly port: number },
    dbName: string,
    dbTls: DbClientTls,
    schemaFiles = SCHEMA_FILES,
): string {
    return schemaStep({
        dbHost: "127.0.0.1",
        dbPort: db.port,
        dbName,
        dbUser: "zabbix",
        dbTls,
        passwordVariable: "ZABBIX_DB_PASSWORD",
        schemaFiles,
        superAdminHashVariable: "ZABBIX_ADMIN_PASSWORD_HASH",
    });
}

/** What loopbackSchemaStep reads on stdin: the zabbix role's password, then the Super Admin's hash. */
export function schemaSecrets(dbPassword: string, superAdminHash = SUPER_ADMIN_HASH): Record<string, string> {
    return { ZABBIX_DB_PASSWORD: dbPassword, ZABBIX_ADMIN_PASSWORD_HASH: superAdminHash };
}

/**
 * A started cluster holding the schema in database zabbix, with two copies of it: zabbix_single
 * (a server without native HA) and zabbix_takeover (ha_node rows set by hand); role zabbix logs
 * in with `dbPassword` over TLS (`pki`'s certificate; the schema step verifies it, verify-full).
 */
export async function zabbixDatabase(scratch: Scratch, dbPassword: string, pki: TestPki): Promise<PgServer> {
    SCHEMA_FILES.forEach(requireFile);
    const dbNames = ["zabbix", "zabbix_single", "zabbix_takeover"];
    const db = await zabbixCluster(scratch, "zabbix-db", dbPassword, dbNames, pki);
    // What the PostgreSQL provider makes: the role (above), and a database it owns.
    await db.sql("create database zabbix owner zabbix encoding 'UTF8' lc_collate 'C' lc_ctype 'C' template template0");

    // The library's schema step, as the loader host runs it (5 to 17 s: data.sql is 130k INSERTs).
    const loaded = ok(await runStep(loopbackSchemaStep(db, "zabbix", pki.db), schemaSecrets(dbPassword)));
    expect(loaded.output).toMatch(/loading the Zabbix schema/);
    // A second database for the server without native HA: a file-level copy, while nothing is connected.
    await db.sql("create database zabbix_single template zabbix owner zabbix");
    // And one whose ha_node rows the prompt-takeover test sets by hand.
    await db.sql("create database zabbix_takeover template zabbix owner zabbix");
    return db;
}
