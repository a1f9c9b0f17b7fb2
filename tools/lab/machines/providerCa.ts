/**
 * The CA of the cloud provider the lab plays (pattern 4): made once in the lab's cache, as a
 * provider's CA outlives its databases. The lab writes its certificate into its own plan as
 * `cloud.database.caCertificate` (as an operator copies the provider's bundle into the config),
 * and signs the played endpoint's certificate with it, so every client's verify-full session is
 * checked against a CA the config names. Made as the offline capture makes the stack's own.
 */
import { existsSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { RESOURCE_TYPES } from "../../../components/facts";
import { tlsOutputs } from "../../offline/tlsMock";
import { ensureDir } from "./settings";

/** A certificate and its private key, PEM. */
export interface KeyedCertificate {
    readonly certPem: string;
    readonly keyPem: string;
}

const KEY = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;

function newKey(): string {
    return String(tlsOutputs(RESOURCE_TYPES.tlsPrivateKey, KEY)!.privateKeyPem);
}

/** The provider's CA from the cache under `dir`, made there first if it holds none. */
export function ensureProviderCa(dir: string): KeyedCertificate {
    ensureDir(dir, 0o700);
    const certFile = path.join(dir, "ca.crt");
    const keyFile = path.join(dir, "ca.key");
    if (!existsSync(certFile) || !existsSync(keyFile)) {
        const keyPem = newKey();
        const ca = tlsOutputs(RESOURCE_TYPES.tlsSelfSignedCert, {
            privateKeyPem: keyPem,
            subject: { commonName: "zabbix-ha lab cloud provider CA", organization: "zabbix-ha lab" },
            isCaCertificate: true,
            validityPeriodHours: 10 * 365 * 24,
            allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        })!;
        writeFileSync(keyFile, keyPem, { mode: 0o600 });
        writeFileSync(certFile, String(ca.certPem), { mode: 0o644 });
    }
    return { certPem: readFileSync(certFile, "utf8"), keyPem: readFileSync(keyFile, "utf8") };
}

/** The played endpoint's certificate: the address the stack connects to (and its host name), signed by the provider's CA. */
export function endpointCertificate(
    ca: KeyedCertificate,
    endpoint: { name: string; address: string },
): KeyedCertificate {
    const keyPem = newKey();
    const request = tlsOutputs(RESOURCE_TYPES.tlsCertRequest, {
        privateKeyPem: keyPem,
        subject: { commonName: endpoint.name, organization: "zabbix-ha lab cloud provider" },
        dnsNames: [endpoint.name],
        ipAddresses: [endpoint.address],
    })!;
    const cert = tlsOutputs(RESOURCE_TYPES.tlsLocallySignedCert, {
        certRequestPem: request.certRequestPem,
        caCertPem: ca.certPem,
        caPrivateKeyPem: ca.keyPem,
        validityPeriodHours: 365 * 24,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
    })!;
    return { certPem: String(cert.certPem), keyPem };
}

/**
 * The config's cloud section (JSON, as the engine holds it) with the provider's CA as
 * `database.caCertificate`, where the endpoint is verified (sslmode verify-full, the default);
 * unchanged without a cloud section or with a weaker sslmode the config chose.
 */
export function withProviderCa(cloud: string | undefined, caCertPem: string): string | undefined {
    if (cloud === undefined) {
        return undefined;
    }
    const parsed = JSON.parse(cloud) as { database?: { sslmode?: string; caCertificate?: string } };
    const db = parsed.database;
    if (db && (db.sslmode ?? "verify-full") === "verify-full") {
        db.caCertificate = caCertPem;
    }
    return JSON.stringify(parsed);
}
