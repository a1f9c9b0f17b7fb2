/**
 * What the `@pulumi/tls` provider would return, made for real (the lab's hosts verify these
 * certificates, the real-program tests hand them to PostgreSQL, etcd, HAProxy and nginx): keys by
 * Node's crypto, certificates by openssl. Only the outputs the library reads are made.
 */
import { execFileSync } from "child_process";
import { createPublicKey, generateKeyPairSync, randomBytes } from "crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { RESOURCE_TYPES } from "../../components/facts";

type Inputs = Record<string, unknown>;

/** The provider's allowed_uses as openssl's keyUsage and extendedKeyUsage names. */
const KEY_USAGE: Record<string, string> = {
    digital_signature: "digitalSignature",
    key_encipherment: "keyEncipherment",
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
};
const EXTENDED_KEY_USAGE: Record<string, string> = { server_auth: "serverAuth", client_auth: "clientAuth" };

function inTempDir<T>(work: (dir: string) => T): T {
    const dir = mkdtempSync(join(tmpdir(), "zha-tls-"));
    try {
        return work(dir);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

function openssl(args: readonly string[]): void {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function subjectOf(inputs: Inputs): string {
    const s = (inputs.subject ?? {}) as Record<string, string>;
    const parts = [
        ["O", s.organization],
        ["CN", s.commonName],
    ].filter(([, v]) => v);
    return parts.map(([k, v]) => `/${k}=${String(v).replace(/[/\\]/g, "\\$&")}`).join("") || "/";
}

function subjectAltName(inputs: Inputs): string[] {
    return [
        ...((inputs.dnsNames ?? []) as string[]).map(n => `DNS:${n}`),
        ...((inputs.ipAddresses ?? []) as string[]).map(a => `IP:${a}`),
    ];
}

/** The extensions a certificate gets from its own inputs (its names come from the request when signed). */
function extensions(inputs: Inputs): string {
    const uses = (inputs.allowedUses ?? []) as string[];
    const keyUsage = uses.filter(u => KEY_USAGE[u]).map(u => KEY_USAGE[u]);
    const extended = uses.filter(u => EXTENDED_KEY_USAGE[u]).map(u => EXTENDED_KEY_USAGE[u]);
    const san = subjectAltName(inputs);
    const ca = inputs.isCaCertificate === true;
    return [
        `basicConstraints=critical,CA:${ca ? "TRUE" : "FALSE"}${ca && inputs.maxPathLength !== undefined ? `,pathlen:${String(inputs.maxPathLength)}` : ""}`,
        ...(keyUsage.length > 0 ? [`keyUsage=critical,${keyUsage.join(",")}`] : []),
        ...(extended.length > 0 ? [`extendedKeyUsage=${extended.join(",")}`] : []),
        ...(san.length > 0 ? [`subjectAltName=${san.join(",")}`] : []),
        "subjectKeyIdentifier=hash",
    ].join("\n");
}

function days(inputs: Inputs): string {
    return String(Math.max(1, Math.floor(Number(inputs.validityPeriodHours ?? 24) / 24)));
}

/** An ECDSA P-256 key as the provider returns it (SEC1 PEM, its PKCS#8 form, the public key). */
function privateKey(inputs: Inputs): Inputs {
    if (inputs.algorithm !== "ECDSA" || (inputs.ecdsaCurve ?? "P224") !== "P256") {
        throw new Error(
            `the offline capture makes ECDSA P256 keys only, not ${String(inputs.algorithm)} ${String(inputs.ecdsaCurve)}`,
        );
    }
    const { privateKey: key } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    return {
        ...inputs,
        privateKeyPem: key.export({ type: "sec1", format: "pem" }),
        privateKeyPemPkcs8: key.export({ type: "pkcs8", format: "pem" }),
        publicKeyPem: createPublicKey(key).export({ type: "spki", format: "pem" }),
    };
}

function selfSignedCert(inputs: Inputs): Inputs {
    const certPem = inTempDir(dir => {
        writeFileSync(join(dir, "key.pem"), String(inputs.privateKeyPem), { mode: 0o600 });
        writeFileSync(join(dir, "req.cnf"), `[req]\ndistinguished_name = dn\n[dn]\n[v3]\n${extensions(inputs)}\n`);
        openssl([
            "req",
            "-x509",
            "-new",
            "-key",
            join(dir, "key.pem"),
            "-subj",
            subjectOf(inputs),
            "-days",
            days(inputs),
            "-sha256",
            "-config",
            join(dir, "req.cnf"),
            "-extensions",
            "v3",
            "-out",
            join(dir, "cert.pem"),
        ]);
        return readFileSync(join(dir, "cert.pem"), "utf8");
    });
    return { ...inputs, certPem };
}

function certRequest(inputs: Inputs): Inputs {
    const certRequestPem = inTempDir(dir => {
        writeFileSync(join(dir, "key.pem"), String(inputs.privateKeyPem), { mode: 0o600 });
        const san = subjectAltName(inputs);
        openssl([
            "req",
            "-new",
            "-key",
            join(dir, "key.pem"),
            "-subj",
            subjectOf(inputs),
            "-config",
            "/dev/null",
            ...(san.length > 0 ? ["-addext", `subjectAltName=${san.join(",")}`] : []),
            "-out",
            join(dir, "csr.pem"),
        ]);
        return readFileSync(join(dir, "csr.pem"), "utf8");
    });
    return { ...inputs, certRequestPem };
}

function locallySignedCert(inputs: Inputs): Inputs {
    const request = String(inputs.certRequestPem);
    const certPem = inTempDir(dir => {
        writeFileSync(join(dir, "csr.pem"), request);
        writeFileSync(join(dir, "ca.pem"), String(inputs.caCertPem));
        writeFileSync(join(dir, "ca.key"), String(inputs.caPrivateKeyPem), { mode: 0o600 });
        writeFileSync(join(dir, "ext.cnf"), extensions(inputs));
        // The request's names (subjectAltName) are copied in, as the provider does.
        openssl([
            "x509",
            "-req",
            "-in",
            join(dir, "csr.pem"),
            "-copy_extensions",
            "copy",
            "-CA",
            join(dir, "ca.pem"),
            "-CAkey",
            join(dir, "ca.key"),
            "-set_serial",
            `0x${randomBytes(16).toString("hex")}`,
            "-days",
            days(inputs),
            "-sha256",
            "-extfile",
            join(dir, "ext.cnf"),
            "-out",
            join(dir, "cert.pem"),
        ]);
        return readFileSync(join(dir, "cert.pem"), "utf8");
    });
    return { ...inputs, certPem, readyForRenewal: false };
}

/** The mock outputs of a `@pulumi/tls` resource, or undefined for another type. */
export function tlsOutputs(type: string, inputs: Inputs): Inputs | undefined {
    switch (type) {
        case RESOURCE_TYPES.tlsPrivateKey:
            return privateKey(inputs);
        case RESOURCE_TYPES.tlsSelfSignedCert:
            return selfSignedCert(inputs);
        case RESOURCE_TYPES.tlsCertRequest:
            return certRequest(inputs);
        case RESOURCE_TYPES.tlsLocallySignedCert:
            return locallySignedCert(inputs);
        default:
            return undefined;
    }
}
