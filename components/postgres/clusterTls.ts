/**
 * The TLS of Patroni's REST API and of etcd, declared once: which of the host's files (the stack's
 * PKI, pki/files.ts) each program serves and presents, and how the command-line clients (curl,
 * etcdctl) in steps, the keeper and the lab's drills present theirs. Every party verifies the other
 * against the stack's CA and presents its host certificate (server and client use), so etcd and
 * Patroni's REST API can ask every client for a certificate. Pure: paths and flags.
 */
import { CA_FILE, CERT_FILE, ETCD_KEY, ROOT_KEY } from "../pki/files";
import { shellQuote } from "../shell";
import { HOST_CLIENT_TLS, HOST_SERVER_TLS, PgClientTls, PgServerTls } from "./tls";

/** A TLS identity: the CA the other side is verified against, the certificate presented and its key. */
export type TlsFiles = PgServerTls & PgClientTls;

/**
 * Patroni's (as postgres): its REST API's certificate, its etcd client's, and patronictl's. The
 * same files PostgreSQL serves, from tls.ts.
 */
export const PATRONI_TLS: TlsFiles = { ...HOST_SERVER_TLS, ...HOST_CLIENT_TLS };

/** An etcd member's (as etcd): its client and peer listeners, and its side of peer sessions. */
export const ETCD_TLS: TlsFiles = { caFile: CA_FILE, certFile: CERT_FILE, keyFile: ETCD_KEY };

/** root's, for the clients that steps, the etcd leader keeper and the lab's drills run as root. */
export const ROOT_TLS: TlsFiles = { caFile: CA_FILE, certFile: CERT_FILE, keyFile: ROOT_KEY };

/** curl's options: verify the server against the CA, present the certificate. */
export function curlTls(t: TlsFiles): string {
    return `--cacert ${shellQuote(t.caFile)} --cert ${shellQuote(t.certFile)} --key ${shellQuote(t.keyFile)}`;
}

/** etcdctl's (API v3) options, the same. */
export function etcdctlTls(t: TlsFiles): string {
    return `--cacert=${shellQuote(t.caFile)} --cert=${shellQuote(t.certFile)} --key=${shellQuote(t.keyFile)}`;
}
