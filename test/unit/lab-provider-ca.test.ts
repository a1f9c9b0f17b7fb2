/**
 * The lab's played cloud provider (pattern 4) serves a certificate signed by a CA the plan names:
 * the CA is made once in the cache, the endpoint's certificate verifies against it for the
 * endpoint's address, and the lab's plan hands that CA to every client. (Nothing here boots a
 * host; the lab run is test/lab's.)
 */
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { DATABASE_CA_FILE } from "../../components/pki";
import { RESOURCE_TYPES } from "../../components/facts";
import {
    KeyedCertificate,
    endpointCertificate,
    ensureProviderCa,
    managedDatabaseScript,
    withProviderCa,
} from "../../tools/lab/machines";
import { planLab } from "../../tools/lab/replay/plan";
import { ROOT, TEST_SSH_KEY, scriptOf } from "../support/plan";

let dir: string;
let ca: KeyedCertificate;
beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "zha-provider-ca-"));
    ca = ensureProviderCa(path.join(dir, "provider-ca"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** openssl's verdict on `cert` against `caPem` for the address `ip`. */
function verify(caPem: string, cert: string, ip: string): string {
    writeFileSync(path.join(dir, "ca.pem"), caPem);
    writeFileSync(path.join(dir, "cert.pem"), cert);
    try {
        return execFileSync(
            "openssl",
            ["verify", "-CAfile", path.join(dir, "ca.pem"), "-verify_ip", ip, path.join(dir, "cert.pem")],
            { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
        );
    } catch (e) {
        return String((e as { stderr?: string }).stderr);
    }
}

test("the provider's CA is made once and kept: a second look finds the same one", () => {
    expect(ensureProviderCa(path.join(dir, "provider-ca"))).toEqual(ca);
    expect(
        execFileSync("openssl", ["x509", "-noout", "-ext", "basicConstraints"], { input: ca.certPem }).toString(),
    ).toContain("CA:TRUE");
});

test("the endpoint's certificate verifies against it for the endpoint's address, and not for another", () => {
    const served = endpointCertificate(ca, { name: "tyo-pg", address: "198.18.1.20" });
    expect(verify(ca.certPem, served.certPem, "198.18.1.20")).toMatch(/: OK/);
    expect(verify(ca.certPem, served.certPem, "198.18.1.21")).toMatch(/IP address mismatch/);
    // Another CA (a second lab cache) does not vouch for it.
    const other = ensureProviderCa(path.join(dir, "other-ca"));
    expect(verify(other.certPem, served.certPem, "198.18.1.20")).not.toMatch(/: OK/);
});

test("the played endpoint serves that certificate: the provider's script installs it from stdin, the key postgres's only", () => {
    const script = managedDatabaseScript({
        port: 5432,
        adminUser: "postgres",
        host: { os: "debian13" } as Parameters<typeof managedDatabaseScript>[0]["host"],
    });
    expect(script).toMatch(/IFS= read -r ADMIN_PASSWORD\nIFS= read -r SERVER_CERT\nIFS= read -r SERVER_KEY\n/);
    expect(script).toContain(`chmod 0600 "$conf/managed-server.key"`);
    expect(script).toContain(
        `"ssl_cert_file = '$conf/managed-server.crt'" "ssl_key_file = '$conf/managed-server.key'"`,
    );
});

test("withProviderCa names the CA where the endpoint is verified, and leaves a weaker sslmode alone", () => {
    const cloud = (db: Record<string, unknown>) => JSON.stringify({ database: { host: "198.18.1.20", ...db } });
    expect(JSON.parse(withProviderCa(cloud({ caCertificate: "example" }), ca.certPem)!).database.caCertificate).toBe(
        ca.certPem,
    );
    expect(
        JSON.parse(withProviderCa(cloud({ sslmode: "require" }), ca.certPem)!).database.caCertificate,
    ).toBeUndefined();
    expect(withProviderCa(undefined, ca.certPem)).toBeUndefined();
});

test("the lab's plan of its cloud config: the provider and the Zabbix hosts verify the endpoint against the lab's CA", async () => {
    const plan = await planLab(
        path.join(ROOT, "lab", "Pulumi.lab-cloud.yaml"),
        TEST_SSH_KEY,
        new Map(),
        undefined,
        "lab-admin-password",
        { providerCaCertPem: ca.certPem },
    );
    const provider = plan.resources.find(r => r.type === RESOURCE_TYPES.postgresqlProvider)!;
    expect(provider.inputs.sslmode).toBe("verify-full");
    expect(readFileSync(String(provider.inputs.sslrootcert), "utf8")).toBe(ca.certPem);
    const tls = plan.resources.find(r => r.name === "tokyo-tyo-zbx1-tls")!;
    expect(scriptOf(tls)).toContain(`zha_put_file '${DATABASE_CA_FILE}'`);
    expect(String(tls.inputs.stdin)).toContain(Buffer.from(ca.certPem, "utf8").toString("base64"));
});
