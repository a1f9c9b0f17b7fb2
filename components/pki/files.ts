/**
 * Where a host keeps the stack's CA, its certificate and its private key, and who may read which:
 * each service that serves TLS gets its own copy of the key, readable by that service's user only
 * (PostgreSQL and Patroni as postgres, etcd as etcd, nginx and HAProxy read theirs as root before
 * they drop privileges). Pure: names and paths, no resources.
 */
import { posix } from "path";
import { Role } from "../config/types";

/**
 * The directory of a host's TLS files (0755: every service user reaches its own file in it; each
 * key file is 0600 and its user's). Not under CONFIG_DIR, which is root's alone.
 */
export const TLS_DIR = "/etc/ssl/zabbix-ha";
/** The stack's CA certificate: every client verifies the servers it reaches against it. */
export const CA_FILE = posix.join(TLS_DIR, "ca.crt");
/**
 * A managed database provider's CA bundle (cloud.database.caCertificate), on the hosts that reach
 * its endpoint: their sessions verify the endpoint against it, not against the stack's CA.
 */
export const DATABASE_CA_FILE = posix.join(TLS_DIR, "database-ca.crt");
/** The host's certificate (its names and addresses, server and client use). */
export const CERT_FILE = posix.join(TLS_DIR, "host.crt");

/** A service user's copy of the host's private key. */
export interface KeyCopy {
    /** Who reads it: the OS user the file belongs to (its group the same). */
    readonly user: string;
    readonly path: string;
    /** The file holds the certificate and then the key (HAProxy's `crt` takes both in one file). */
    readonly withCertificate: boolean;
}

/** The postgres user's copy: PostgreSQL's `ssl_key_file`, Patroni's REST API and its etcd client. */
export const POSTGRES_KEY = posix.join(TLS_DIR, "postgres.key");
/** The etcd user's copy: the member's server and peer key. */
export const ETCD_KEY = posix.join(TLS_DIR, "etcd.key");
/** root's copy: nginx (read by its master process as root) and tools that run as root (etcdctl, curl). */
export const ROOT_KEY = posix.join(TLS_DIR, "host.key");
/** HAProxy's certificate and key in one file (read as root before it drops privileges). */
export const HAPROXY_PEM = posix.join(TLS_DIR, "haproxy.pem");

/** What a host's TLS step needs to know of it. */
export interface TlsHostInput {
    readonly roles: readonly Role[];
    /** An etcd member runs here (a witness, or a DB host under Patroni). */
    readonly etcdMember: boolean;
    /** The host reaches a managed database and gets its provider's CA (DATABASE_CA_FILE). */
    readonly databaseCa?: boolean;
}

/** The key copies a host's roles need; root's is always there. */
export function keyCopies(h: TlsHostInput): KeyCopy[] {
    return [
        { user: "root", path: ROOT_KEY, withCertificate: false },
        ...(h.roles.includes("db") ? [{ user: "postgres", path: POSTGRES_KEY, withCertificate: false }] : []),
        ...(h.etcdMember ? [{ user: "etcd", path: ETCD_KEY, withCertificate: false }] : []),
        ...(h.roles.includes("lb") ? [{ user: "root", path: HAPROXY_PEM, withCertificate: true }] : []),
    ];
}
