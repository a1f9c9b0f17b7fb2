/**
 * Reader of the `pki` section: the stack's CA (its own, or the operator's) and the rotation count.
 */
import { Reader } from "./reader";
import { SecretSettings, setSecretCommand } from "./secrets";
import { PkiConfig } from "./types";

/** One PEM certificate, nothing before or after it. */
const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;

export function readPki(r: Reader, value: unknown, secrets: SecretSettings): PkiConfig | undefined {
    const node = r.object(value ?? {}, "pki", ["rotation", "caCertificate"]);
    if (!node) {
        return undefined;
    }
    const rotation = r.integer(node, "rotation", "pki", 0, 0, 1000);
    const caCertificate = r.string(node, "caCertificate", "pki", "");
    if (caCertificate && !PEM_CERTIFICATE.test(caCertificate)) {
        r.problem(
            "pki.caCertificate",
            "is not one PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
        );
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
