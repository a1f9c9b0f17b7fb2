/**
 * Zabbix 7.0 sites in sessions of the Debian 13 root (support/debian13.ts), each session playing a
 * host: PostgreSQL 17 as Debian runs it (the cluster postgresql-common made, started by
 * pg_ctlcluster) with the rendered drop-ins and pg_hba.conf where the DB step puts them, and
 * frontends served by Debian's nginx 1.26 and php-fpm 8.4 with the rendered site, pool and
 * zabbix.conf.php where the frontend step puts them, under the distribution's main configs.
 * Sessions share this machine's network, so everything listens on 127.0.0.1 on free ports.
 */
import { existsSync, readFileSync } from "fs";
import { Role } from "../../components/config/types";
import { CA_FILE, CERT_FILE, ROOT_KEY, keyCopies } from "../../components/pki/files";
import { NGINX_DEFAULT_SITE, zabbixLayout } from "../../components/platform";
import {
    POSTGRES_CONF_DROP_IN,
    ROLE_CONF_DROP_IN,
    renderPgHba,
    renderPostgresConf,
    renderPostgresRoleConf,
} from "../../components/postgres/render";
import { HOST_SERVER_TLS, SELF_RUN_DB_TLS } from "../../components/postgres/tls";
import { postgresMaxConnections } from "../../components/sizing";
import { renderNginxSite, renderPhpFpmPool, renderZabbixConfPhp } from "../../components/zabbix/render";
import { FRONTEND_PASSWORD_FILE, frontendFiles } from "../../components/zabbix/steps";
import { RunResult, Scratch, TestPki, freePort, loopbackHbaRules, ok, waitFor } from "./support";
import { Chroot } from "./support/chroot";
import { DEBIAN13, Debian13Root, openSession } from "./support/debian13";
import { loopbackSchemaStep, runStep, schemaSecrets, sizing } from "./zabbix-db";
import { Site, api } from "./zabbix-frontends";

/** Debian's own Zabbix 7.0 on Debian 13: where its files are. */
export const LAYOUT = zabbixLayout(DEBIAN13, "distribution");
const PG = DEBIAN13.postgres;
const WEB_USER = DEBIAN13.phpFpm.webUser;

/**
 * Installs the test PKI in a session where a host's TLS step puts the stack's: the CA and the
 * certificate for everyone, and each key copy the host's roles get (keyCopies: root's always,
 * postgres's on a DB host, HAProxy's certificate-and-key on a load balancer), 0600 and its user's.
 * The renderers then take the host's own paths, as the stack renders them.
 */
export async function installPki(host: Chroot, pki: TestPki, roles: readonly Role[]): Promise<void> {
    const cert = readFileSync(pki.server.certFile, "utf8");
    const key = readFileSync(pki.rootKeyFile, "utf8");
    await host.put(CA_FILE, readFileSync(pki.client.caFile, "utf8"), 0o644);
    await host.put(CERT_FILE, cert, 0o644);
    for (const copy of keyCopies({ roles, etcdMember: false })) {
        const text = copy.withCertificate ? `${cert.trimEnd()}\n${key}` : key;
        await host.put(copy.path, text, 0o600, `${copy.user}:${copy.user}`);
    }
}

/**
 * The rendered settings of a DB host on 127.0.0.1:`port` (serving the host's certificate): the
 * shared drop-in and a primary's role drop-in.
 */
export function dbSettings(port: number): Record<string, string> {
    return {
        [POSTGRES_CONF_DROP_IN]: renderPostgresConf({
            listenAddresses: ["127.0.0.1"],
            port,
            maxConnections: postgresMaxConnections(sizing, 2),
            tls: HOST_SERVER_TLS,
        }),
        [ROLE_CONF_DROP_IN]: renderPostgresRoleConf({ role: "primary", synchronousStandbys: [] }),
    };
}

/** A started PostgreSQL 17 in a session, and SQL as its postgres user over the local socket. */
export interface Pg17 {
    readonly host: Chroot;
    readonly port: number;
    sql(sql: string, db?: string): Promise<string>;
}

/**
 * PostgreSQL 17 in a session of its own, run the Debian way with the rendered drop-ins in conf.d and
 * a rendered pg_hba.conf that admits role zabbix to each of `dbNames` from 127.0.0.1 over TLS only
 * (`pki` installed as the host's); stopped with pg_ctlcluster at teardown, before the session goes.
 */
export async function startPostgres17(
    scratch: Scratch,
    root: Debian13Root,
    dbNames: readonly string[],
    pki: TestPki,
): Promise<Pg17> {
    const host = await openSession(scratch, root, "db");
    await installPki(host, pki, ["db"]);
    const port = await freePort();
    for (const [name, text] of Object.entries(dbSettings(port))) {
        await host.put(`${PG.configDir}/conf.d/${name}`, text, 0o644, "postgres:postgres");
    }
    await host.put(
        `${PG.configDir}/pg_hba.conf`,
        renderPgHba({ rules: dbNames.flatMap(n => loopbackHbaRules(n)) }),
        0o640,
        "postgres:postgres",
    );
    const cluster = [PG.version, "main"];
    scratch.defer("stop PostgreSQL 17", async () => {
        await host.run("pg_ctlcluster", [...cluster, "stop", "-m", "fast"]);
    });
    const started = await host.run("pg_ctlcluster", [...cluster, "start"], { timeoutMs: 120_000 });
    if (started.code !== 0) {
        const log = `/var/log/postgresql/postgresql-${PG.version}-main.log`;
        throw new Error(
            `pg_ctlcluster start failed:\n${started.output}\n${existsSync(host.path(log)) ? host.read(log) : ""}`,
        );
    }
    const sql = async (text: string, db = "postgres") =>
        ok(
            await host.run(
                "psql",
                ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-p", String(port), "-d", db, "-c", text],
                {
                    user: "postgres",
                    timeoutMs: 120_000,
                },
            ),
        ).stdout.trim();
    return { host, port, sql };
}

/**
 * What the PostgreSQL provider makes (role zabbix with `dbPassword`, and database zabbix it owns),
 * then the library's schema step, run with Debian 13's sh and psql as the loader host runs it: the
 * 7.0 schema, with the Super Admin's password SUPER_ADMIN_PASSWORD (zabbix-db.ts).
 */
export async function loadZabbixDatabase(db: Pg17, dbPassword: string): Promise<RunResult> {
    await db.sql(`create role zabbix login password '${dbPassword}'`);
    await db.sql("create database zabbix owner zabbix encoding 'UTF8' lc_collate 'C' lc_ctype 'C' template template0");
    return runStep(
        loopbackSchemaStep(db, "zabbix", SELF_RUN_DB_TLS, LAYOUT.schemaFiles),
        schemaSecrets(dbPassword),
        db.host,
    );
}

/** A frontend in a session of its own: its API's URL, its host, and nginx's error log (where PHP's messages land). */
export interface Frontend extends Site {
    readonly host: Chroot;
    readonly errorLog: () => string;
}

/**
 * Zabbix 7.0's frontend on a session: the rendered zabbix.conf.php (its DB `dbName` on `db`), pool
 * and site (HTTPS on a free port, loopback only), Debian's php-fpm 8.4 and nginx started as their units
 * start them, in the foreground; waits until the API answers. Its DB session is verify-full against
 * `pki`'s CA, installed as the host's.
 */
export async function startFrontend(
    scratch: Scratch,
    root: Debian13Root,
    name: string,
    db: { readonly port: number; readonly dbName: string; readonly password: string },
    pki: TestPki,
): Promise<Frontend> {
    const host = await openSession(scratch, root, name);
    await installPki(host, pki, ["frontend"]);
    const files = frontendFiles(DEBIAN13, LAYOUT);
    const owner = `root:${WEB_USER}`;
    await host.put(FRONTEND_PASSWORD_FILE, `${db.password}\n`, 0o640, owner);
    const conf = renderZabbixConfPhp({
        dbHost: "127.0.0.1",
        dbPort: db.port,
        dbName: db.dbName,
        dbUser: "zabbix",
        dbTls: SELF_RUN_DB_TLS,
        passwordFile: FRONTEND_PASSWORD_FILE,
        serverName: `Zabbix ${name}`,
    });
    await host.put(files.conf, conf, 0o640, owner);
    await host.put(files.pool, renderPhpFpmPool({ socket: files.socket, user: WEB_USER, timezone: "UTC" }));
    const port = await freePort();
    // Loopback only (this shared machine's other addresses are not the test's), HTTPS with the stack's files.
    await host.put(
        files.site,
        renderNginxSite({
            listenAddresses: ["127.0.0.1"],
            listenPort: port,
            certificateFile: CERT_FILE,
            keyFile: ROOT_KEY,
            root: LAYOUT.frontendRoot,
            phpSocket: files.socket,
        }),
    );
    await host.run("rm", ["-f", NGINX_DEFAULT_SITE]);
    // systemd makes /run/php (the unit's RuntimeDirectory) on a host.
    await host.mkdir(DEBIAN13.phpFpm.socketDir);

    const fpmBin = `/usr/sbin/php-fpm${/php(\d\.\d)-fpm/.exec(DEBIAN13.phpFpm.service)![1]}`;
    const fpmConf = `${DEBIAN13.phpFpm.poolDir.replace(/\/pool\.d$/, "")}/php-fpm.conf`;
    const fpm = host.start(`php-fpm ${name}`, fpmBin, ["--nodaemonize", "--fpm-config", fpmConf]);
    scratch.defer(`stop php-fpm ${name}`, () => fpm.stop());
    await waitFor(`php-fpm ${name} to create its socket`, () => existsSync(host.path(files.socket)), { watch: [fpm] });
    const nginx = host.start(`nginx ${name}`, "/usr/sbin/nginx", ["-g", "daemon off; master_process on;"]);
    scratch.defer(`stop nginx ${name}`, () => nginx.stop());

    const errorLog = () =>
        existsSync(host.path("/var/log/nginx/error.log")) ? host.read("/var/log/nginx/error.log") : "";
    const url = `https://127.0.0.1:${port}/api_jsonrpc.php`;
    const ca = readFileSync(pki.client.caFile, "utf8");
    const logs = () => `--- ${name} nginx error.log:\n${errorLog()}\n--- ${name} fpm: ${fpm.output()}`;
    await waitFor(`the ${name} frontend's API to answer`, () => api<string>({ url, ca }, "apiinfo.version", []), {
        watch: [fpm, nginx],
        detail: logs,
    });
    return { name, url, ca, logs, host, errorLog };
}
