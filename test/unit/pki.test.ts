/**
 * The stack's PKI as planned: a certificate per host with the names it is reached by, verified
 * by the real openssl against the stack's CA (or the operator's), keys secret and on stdin only,
 * and a new key for every host when the rotation count goes up.
 */
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ConfigError } from "../../components/config";
import { RESOURCE_TYPES } from "../../components/facts";
import { CapturedPlan, ofType } from "../../tools/offline/capture";
import { TEST_SSH_KEY, byName, operatorCa, planConfig, planExample, scriptOf, twoSiteConfig } from "../support/plan";
import { toEngineConfig } from "../../tools/offline/environment";
import { capturePlan } from "../../tools/offline/capture";
import { runStack } from "../../stacks/program";

jest.setTimeout(60_000);

/** A site's all-roles host plus a frontend-only host, so names can be told apart by role. */
function config(extra: Record<string, unknown> = {}): Record<string, any> {
    const c = twoSiteConfig();
    c.sites[0].hosts.push({ name: "east-web", address: "198.18.1.20", roles: ["frontend"] });
    return { ...c, ...extra };
}

/** The certificate the plan issued for a host, as text, and openssl's verdict against the CA it names. */
function certificateOf(plan: CapturedPlan, host: string): { text: string; verified: string } {
    const cert = byName(plan, `zabbix-pki-${host}-cert`);
    const dir = mkdtempSync(join(tmpdir(), "zha-pki-"));
    writeFileSync(join(dir, "ca.pem"), String(cert.inputs.caCertPem));
    writeFileSync(join(dir, "cert.pem"), String(cert.outputs.certPem));
    const text = execFileSync("openssl", ["x509", "-in", join(dir, "cert.pem"), "-noout", "-text"], {
        encoding: "utf8",
    });
    const verified = execFileSync("openssl", ["verify", "-CAfile", join(dir, "ca.pem"), join(dir, "cert.pem")], {
        encoding: "utf8",
    });
    return { text, verified };
}

async function planWithCa(ca: { certPem: string; keyPem: string }) {
    const { config: engine, secretKeys } = toEngineConfig({ ...config(), pki: { caCertificate: ca.certPem } });
    engine["zabbix-ha:sshPrivateKey"] = TEST_SSH_KEY;
    engine["zabbix-ha:pkiCaPrivateKey"] = ca.keyPem;
    secretKeys.push("zabbix-ha:sshPrivateKey", "zabbix-ha:pkiCaPrivateKey");
    return capturePlan(() => runStack(), { config: engine, secretKeys, stack: "test" });
}

describe("the stack's own CA", () => {
    let plan: CapturedPlan;
    beforeAll(async () => {
        plan = await planConfig(config());
        expect(plan.error).toBeUndefined();
    });

    test("every host gets a certificate that verifies against the CA, with its name and address", () => {
        for (const [host, address] of [
            ["east-1", "198.18.1.10"],
            ["west-1", "198.18.2.10"],
            ["east-web", "198.18.1.20"],
        ]) {
            const { text, verified } = certificateOf(plan, host);
            expect(verified).toContain(": OK");
            expect(text).toContain(`DNS:${host}`);
            expect(text).toContain(`IP Address:${address}`);
            expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
        }
    });

    test("a DB host's certificate carries every load balancer, which its clients connect through; a frontend's does not", () => {
        const db = certificateOf(plan, "west-1").text;
        expect(db).toContain("DNS:east-1");
        expect(db).toContain("IP Address:198.18.1.10");
        const web = certificateOf(plan, "east-web").text;
        expect(web).not.toContain("198.18.1.10");
        expect(web).not.toContain("198.18.2.10");
    });

    test("the provider verifies against a file holding this stack's CA, named by its content (another plan's CA never overwrites it)", () => {
        const provider = plan.resources.find(r => r.type === "pulumi:providers:postgresql")!;
        expect(provider.inputs.sslmode).toBe("verify-full");
        const file = String(provider.inputs.sslrootcert);
        expect(readFileSync(file, "utf8")).toBe(plan.outputs?.caCertificate);
        expect(file).toMatch(/\.zabbix-ha\/test-[0-9a-f]{16}-ca\.crt$/);
    });

    test("the CA is a CA that signs host certificates only, and is exported", () => {
        const [ca] = ofType(plan, RESOURCE_TYPES.tlsSelfSignedCert);
        expect(ca.inputs).toMatchObject({ isCaCertificate: true, maxPathLength: 0 });
        expect(plan.outputs?.caCertificate).toBe(ca.outputs.certPem);
    });

    test("keys are secrets, reach the host on the TLS step's stdin only, and never its command text", () => {
        const key = byName(plan, "zabbix-pki-east-1-key");
        const pem = String(key.outputs.privateKeyPem);
        const step = byName(plan, "east-east-1-tls");
        expect(step.secretInputs).toContain("stdin");
        expect(String(step.inputs.stdin)).toContain(Buffer.from(pem).toString("base64"));
        expect(String(step.inputs.create)).not.toContain(Buffer.from(pem).toString("base64"));
        expect(String(step.inputs.create)).not.toContain("PRIVATE KEY");
        // Each service's own copy, readable by that service only.
        expect(scriptOf(step)).toContain("zha_put_file '/etc/ssl/zabbix-ha/postgres.key' 0600 postgres:postgres");
        expect(scriptOf(step)).toContain("zha_put_file '/etc/ssl/zabbix-ha/haproxy.pem' 0600 root:root");
        expect(scriptOf(byName(plan, "east-east-web-tls"))).not.toContain("postgres.key");
    });

    test("raising pki.rotation makes a new CA and a new key for every host", async () => {
        const rotated = await planConfig(config({ pki: { rotation: 1 } }));
        const keys = (p: CapturedPlan) => ofType(p, RESOURCE_TYPES.tlsPrivateKey).map(r => r.name);
        expect(keys(rotated).every(n => n.endsWith("-r1"))).toBe(true);
        expect(keys(rotated)).toHaveLength(keys(plan).length);
        const before = byName(plan, "east-east-1-tls").inputs.stdin;
        expect(byName(rotated, "east-east-1-tls").inputs.stdin).not.toEqual(before);
    });
});

test("under Patroni a DB host's certificate also names localhost and 127.0.0.1, where Patroni reaches its own PostgreSQL", async () => {
    // The prod example runs Patroni (etcd members in three sites).
    const prod = await planExample("prod");
    expect(prod.error).toBeUndefined();
    const db = certificateOf(prod, "tyo-db1").text;
    expect(db).toContain("DNS:localhost");
    expect(db).toContain("IP Address:127.0.0.1");
    expect(certificateOf(prod, "tyo-web1").text).not.toContain("localhost");
});

describe("the operator's CA", () => {
    test("signs every host's certificate, and the stack makes no CA of its own", async () => {
        const ca = operatorCa();
        const plan = await planWithCa(ca);
        expect(plan.error).toBeUndefined();
        expect(ofType(plan, RESOURCE_TYPES.tlsSelfSignedCert)).toEqual([]);
        expect(certificateOf(plan, "east-1").verified).toContain(": OK");
        expect(byName(plan, "zabbix-pki-east-1-cert").inputs.caCertPem).toBe(ca.certPem);
        expect(byName(plan, "zabbix-pki-east-1-cert").secretInputs).toContain("caPrivateKeyPem");
    });

    test.each([
        [{ caCertificate: "not a certificate" }, "pki.caCertificate: is not one PEM certificate"],
        [{ caCertificate: "CA" }, "pki.caCertificate: is not one PEM certificate"],
    ])("a bad certificate is an error naming pki.caCertificate (%j)", async (pki, message) => {
        const plan = await planConfig(config({ pki }));
        expect(plan.error).toBeInstanceOf(ConfigError);
        expect(plan.error!.message).toContain(message);
        expect(plan.resources.filter(r => r.custom)).toEqual([]);
    });

    test("a certificate without its key is an error naming the secret to set", async () => {
        const plan = await planConfig(config({ pki: { caCertificate: operatorCa().certPem } }));
        expect(plan.error).toBeInstanceOf(ConfigError);
        expect(plan.error!.message).toContain("pkiCaPrivateKey: is required with pki.caCertificate");
        expect(plan.error!.message).toContain("pulumi config set --secret pkiCaPrivateKey < ca.key");
    });
});
