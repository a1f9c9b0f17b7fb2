/**
 * PostgreSQL's TLS, declared once: what the server serves (the host's certificate from the stack's
 * PKI), and how every client of it verifies that certificate (verify-full against the stack's CA:
 * the name it connected to must be in the certificate). Replication, pg_basebackup, Patroni, the
 * provider's session, the load balancers' checks, Zabbix servers and frontends all use these. The
 * files are inputs of the renderers (tests bring their own PKI); the stack passes the host's.
 */
import { CA_FILE, CERT_FILE, DATABASE_CA_FILE, POSTGRES_KEY } from "../pki/files";

/** The certificate and key a PostgreSQL server serves. */
export interface PgServerTls {
    readonly certFile: string;
    /** Readable by the postgres user only. */
    readonly keyFile: string;
}

/** The CA a client verifies the server's certificate against. */
export interface PgClientTls {
    readonly caFile: string;
}

/** On a DB host: the host's own certificate, postgres's copy of its key. */
export const HOST_SERVER_TLS: PgServerTls = { certFile: CERT_FILE, keyFile: POSTGRES_KEY };
/** On any host: the stack's CA. */
export const HOST_CLIENT_TLS: PgClientTls = { caFile: CA_FILE };

/** The server's settings (postgresql.conf, or Patroni's parameters): TLS 1.2 or newer only. */
export function serverTlsSettings(t: PgServerTls): Record<string, string> {
    return { ssl: "on", ssl_cert_file: t.certFile, ssl_key_file: t.keyFile, ssl_min_protocol_version: "TLSv1.2" };
}

/** libpq's mode on every client: the certificate must verify and name the host connected to. */
export const CLIENT_SSLMODE = "verify-full";

/** The client settings as conninfo keywords (primary_conninfo, a replication connection string). */
export function clientConninfo(t: PgClientTls): string {
    return `sslmode=${CLIENT_SSLMODE} sslrootcert=${t.caFile}`;
}

/** The same as libpq's environment assignments (for `env` before psql or pg_basebackup). */
export function clientEnv(t: PgClientTls): string {
    return `PGSSLMODE=${CLIENT_SSLMODE} PGSSLROOTCERT=${t.caFile}`;
}

/** The same, set and exported in a script (a Zabbix DB client's export, at verify-full). */
export function clientExport(t: PgClientTls): string {
    return dbClientExport({ sslmode: CLIENT_SSLMODE, caFile: t.caFile });
}

/**
 * How a client of the Zabbix database (a Zabbix server, a frontend, the schema loader, the
 * takeover watcher) secures its session: verify-full against the stack's CA for a self-run
 * cluster; a managed endpoint's configured sslmode (verify-full against its provider's CA by default).
 */
export interface DbClientTls {
    readonly sslmode: "verify-full" | "require" | "disable";
    /** The CA the server's certificate must verify against (with verify-full). */
    readonly caFile?: string;
}

/** A self-run cluster's clients: the stack's CA, the name connected to in the certificate. */
export const SELF_RUN_DB_TLS: DbClientTls = { sslmode: CLIENT_SSLMODE, caFile: HOST_CLIENT_TLS.caFile };

/**
 * A managed endpoint's clients: with verify-full, its provider's CA bundle as the TLS step installs
 * it (DATABASE_CA_FILE); a weaker mode the operator chose has no CA to check.
 */
export function managedDbTls(sslmode: DbClientTls["sslmode"]): DbClientTls {
    return sslmode === CLIENT_SSLMODE ? { sslmode, caFile: DATABASE_CA_FILE } : { sslmode };
}

/** A client's TLS as libpq's environment, set and exported in a script. */
export function dbClientExport(t: DbClientTls): string {
    const names = ["PGSSLMODE", ...(t.caFile ? ["PGSSLROOTCERT"] : [])];
    return `PGSSLMODE=${t.sslmode}${t.caFile ? ` PGSSLROOTCERT=${t.caFile}` : ""}\nexport ${names.join(" ")}`;
}
