/**
 * Reader of the `pki` section: the stack's CA (its own, or the operator's) and the rotation count.
 */
import { X509Certificate } from "crypto";
import { Reader } from "./reader";
import { SecretSettings, setSecretCommand } from "./secrets";
import { PkiConfig } from "./types";

/** One PEM certificate, nothing before or after it. */
export const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;

/** Reports `path` unless `pem` is one PEM certificate. */
export function checkPemCertificate(r: Reader, pem: string, path: string): void {
    if (!PEM_CERTIFICATE.test(pem)) {
        r.problem(path, "is not one PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)");
    }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/**
 * Reports `path` unless `pem` is a CA bundle: one or more PEM certificates (nothing but blank lines
 * between them), each one a CA's (basic constraints CA:TRUE). A server's own certificate there
 * would verify nothing but itself, and only until it is renewed.
 */
export function checkPemCaBundle(r: Reader, pem: string, path: string): void {
    const blocks = pem.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0 || pem.replace(PEM_BLOCK, "").trim() !== "") {
        r.problem(
            path,
            "is not a PEM CA bundle (one or more -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- blocks, nothing else)",
        );
        return;
    }
    blocks.forEach((block, i) => {
        let ca: boolean;
        try {
            ca = new X509Certificate(block).ca;
        } catch (e) {
            r.problem(path, `certificate ${i + 1} does not parse (${(e as Error).message})`);
            return;
        }
        if (!ca) {
            r.problem(
                path,
                `certificate ${i + 1} is not a CA's (no basic constraints CA:TRUE): give the CA that signs the endpoint's certificate`,
            );
        }
    });
}

export function readPki(r: Reader, value: unknown, secrets: SecretSettings): PkiConfig | undefined {
    const node = r.object(value ?? {}, "pki", ["rotation", "caCertificate"]);
    if (!node) {
        return undefined;
    }
    const rotation = r.integer(node, "rotation", "pki", 0, 0, 1000);
    const caCertificate = r.string(node, "caCertificate", "pki", "");
    if (caCertificate) {
        checkPemCertificate(r, caCertificate, "pki.caCertificate");
    }
    if (caCertificate && !secrets.pkiCaPrivateKey) {
        r.problem(
            "pkiCaPrivateKey",
            `is required with pki.caCertificate: the CA's private key, which signs every host's certificate (\`${setSecretCommand("pkiCaPrivateKey")}\`)`,
        );
    }
    if (!caCertificate && secrets.pkiCaPrivateKey) {
        r.problem("pkiCaPrivateKey", "is set but pki.caCertificate is not: set both to use your CA, or remove the key");
    }
    return rotation !== undefined ? { rotation, ...(caCertificate ? { caCertificate } : {}) } : undefined;
}
