/**
 * A real test PKI made by the code the plans use (the offline `@pulumi/tls` outputs): a CA and one
 * certificate for servers and clients whose names are localhost and 127.0.0.1 … 127.0.0.9 (loopback
 * addresses stand in for the sites of these tests), in a scratch dir every user can traverse.
 */
import { chmod } from "fs/promises";
import * as path from "path";
import { RESOURCE_TYPES } from "../../../components/facts";
import { TlsFiles } from "../../../components/postgres/clusterTls";
import { DbClientTls, PgClientTls, PgServerTls } from "../../../components/postgres/tls";
import { tlsOutputs } from "../../../tools/offline/tlsMock";
import { Scratch, putFile } from "./scratch";

/** The addresses every test certificate names: loopback addresses stand in for hosts and sites. */
export const TEST_PKI_IPS = Array.from({ length: 9 }, (_, i) => `127.0.0.${i + 1}`);

/** The files of a test PKI, shaped as the renderers take them. */
export interface TestPki {
    /** PostgreSQL's certificate and postgres's copy of the key (0600). */
    readonly server: PgServerTls;
    /** The CA every client verifies against. */
    readonly client: PgClientTls;
    /** A Zabbix server's or frontend's DB session: verify-full against the CA. */
    readonly db: DbClientTls;
    /** root's copy of the key (0600), for servers run as root (nginx's master). */
    readonly rootKeyFile: string;
    /** HAProxy's file: the certificate, then the key (0600, root's). */
    readonly haproxyPemFile: string;
    /** etcd's: the CA, the certificate and the etcd user's copy of the key (0600). */
    readonly etcd: TlsFiles;
    /** root's, for the clients the tests run as root (etcdctl, curl). */
    readonly root: TlsFiles;
    /** The scratch dir the files are in (0755). */
    readonly dir: string;
}

function made(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const outputs = tlsOutputs(type, inputs);
    if (!outputs) {
        throw new Error(`no offline outputs for ${type}`);
    }
    return outputs;
}

/**
 * A fresh CA (named `caName`) and a loopback certificate signed by it, written into a scratch dir;
 * `dnsNames` are more names for it (the host names a test's HAProxy verifies).
 */
export async function testPki(
    scratch: Scratch,
    caName = "Test CA",
    dnsNames: readonly string[] = [],
): Promise<TestPki> {
    const key = () => made(RESOURCE_TYPES.tlsPrivateKey, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const caKey = key();
    const ca = made(RESOURCE_TYPES.tlsSelfSignedCert, {
        privateKeyPem: caKey.privateKeyPem,
        subject: { commonName: caName, organization: "zabbix-ha tests" },
        isCaCertificate: true,
        validityPeriodHours: 24,
        allowedUses: ["cert_signing", "crl_signing"],
    });
    const hostKey = key();
    const request = made(RESOURCE_TYPES.tlsCertRequest, {
        privateKeyPem: hostKey.privateKeyPem,
        subject: { commonName: "localhost", organization: "zabbix-ha tests" },
        dnsNames: ["localhost", ...dnsNames],
        ipAddresses: TEST_PKI_IPS,
    });
    const cert = made(RESOURCE_TYPES.tlsLocallySignedCert, {
        certRequestPem: request.certRequestPem,
        caCertPem: ca.certPem,
        caPrivateKeyPem: caKey.privateKeyPem,
        validityPeriodHours: 24,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
    });

    const dir = await scratch.dir("pki");
    // Every user (postgres, zabbix, www-data) reads the CA and the certificate through this dir.
    await chmod(dir, 0o755);
    const caFile = await putFile(path.join(dir, "ca.crt"), String(ca.certPem), 0o644);
    const certFile = await putFile(path.join(dir, "host.crt"), String(cert.certPem), 0o644);
    // PostgreSQL refuses a key that others can read, and reads it as postgres.
    const keyFile = await putFile(path.join(dir, "postgres.key"), String(hostKey.privateKeyPem), 0o600, "postgres");
    const rootKeyFile = await putFile(path.join(dir, "host.key"), String(hostKey.privateKeyPem), 0o600);
    // As the TLS step writes HAPROXY_PEM: the certificate and the key, each ending in a newline.
    const pem = (text: unknown) => `${String(text).trimEnd()}\n`;
    const haproxyPemFile = await putFile(
        path.join(dir, "haproxy.pem"),
        pem(cert.certPem) + pem(hostKey.privateKeyPem),
        0o600,
    );
    const etcdKeyFile = await putFile(path.join(dir, "etcd.key"), String(hostKey.privateKeyPem), 0o600, "etcd");
    return {
        etcd: { caFile, certFile, keyFile: etcdKeyFile },
        root: { caFile, certFile, keyFile: rootKeyFile },
        server: { certFile, keyFile },
        client: { caFile },
        db: { sslmode: "verify-full", caFile },
        rootKeyFile,
        haproxyPemFile,
        dir,
    };
}
