/**
 * Pattern 4's managed database is verified, not only encrypted: cloud.database.caCertificate is
 * required (sslmode verify-full by default), must be a CA bundle, and reaches every client of the
 * endpoint: the provider's session, the Zabbix servers, the frontends and the schema load.
 */
import { readFileSync } from "fs";
import * as path from "path";
import { SET_AS_SECRET } from "../../components/config";
import { DATABASE_CA_FILE } from "../../components/pki";
import { CapturedPlan } from "../../tools/offline/capture";
import { readEnvironment } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { MANAGED_DB_CA, ROOT, TEST_SSH_KEY, byName, configProblems, scriptOf, twoSiteConfig } from "../support/plan";

const CLOUD = { minSites: 2, requiredRoles: [], selfRunDatabase: false, sections: ["cloud"] } as const;
const SECRETS = { sshPrivateKey: SET_AS_SECRET, cloudDbAdminPassword: SET_AS_SECRET };
const PROD = path.join(ROOT, "Pulumi.prod.yaml");
const NOT_A_CA = readFileSync(path.join(ROOT, "test", "support", "certificates", "not-a-ca.crt"), "utf8");

function problemsWith(database: Record<string, unknown>): string[] {
    const raw = { ...twoSiteConfig(), cloud: { database: { host: "db.cloud.example.net", ...database } } };
    return configProblems(raw, { secrets: SECRETS, requirements: CLOUD });
}

describe("cloud.database.caCertificate", () => {
    test("is required by default (verify-full), with where to get it", () => {
        const [problem, ...rest] = problemsWith({});
        expect(rest).toEqual([]);
        expect(problem).toMatch(/^cloud\.database\.caCertificate: is required \(sslmode verify-full, the default\)/);
        expect(problem).toContain("global-bundle.pem");
    });

    test.each([
        ["a word", "not a certificate", "is not a PEM CA bundle"],
        ["text after the certificate", `${MANAGED_DB_CA}trailing words\n`, "is not a PEM CA bundle"],
        ["a server's certificate", NOT_A_CA, "certificate 1 is not a CA's"],
        ["a bundle with a server's certificate second", `${MANAGED_DB_CA}\n${NOT_A_CA}`, "certificate 2 is not a CA's"],
    ])("refuses %s, naming the key", (_what, caCertificate, message) => {
        expect(problemsWith({ caCertificate })).toEqual([
            expect.stringContaining(`cloud.database.caCertificate: ${message}`),
        ]);
    });

    test("accepts a CA, or a bundle of several as providers ship them", () => {
        expect(problemsWith({ caCertificate: MANAGED_DB_CA })).toEqual([]);
        expect(problemsWith({ caCertificate: `${MANAGED_DB_CA}\n${MANAGED_DB_CA}` })).toEqual([]);
    });

    test("a weaker sslmode is the operator's explicit choice, and then a CA would be read by nothing", () => {
        expect(problemsWith({ sslmode: "require" })).toEqual([]);
        expect(problemsWith({ sslmode: "require", caCertificate: MANAGED_DB_CA })).toEqual([
            expect.stringContaining("cloud.database.caCertificate: is only read with sslmode verify-full, not require"),
        ]);
    });
});

describe("the prod example as pattern 4: every client verifies the endpoint against the provider's CA", () => {
    let plan: CapturedPlan;
    const configured = (
        JSON.parse(readEnvironment(PROD).config["zabbix-ha:cloud"]) as {
            database: { caCertificate: string };
        }
    ).database.caCertificate;
    const encoded = Buffer.from(configured, "utf8").toString("base64");

    beforeAll(async () => {
        plan = await planEnvironment(readEnvironment(PROD), {
            placeholderSecrets: true,
            secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
            overrides: { "zabbix-ha:pattern": "cloud" },
        });
        expect(plan.error).toBeUndefined();
    });

    test("the provider's session: verify-full against a local file holding that CA", () => {
        const provider = byName(plan, "zabbix-db-provider");
        expect(provider.inputs.sslmode).toBe("verify-full");
        expect(readFileSync(String(provider.inputs.sslrootcert), "utf8")).toBe(configured);
    });

    test("servers, frontends and the schema load name the host's copy of it", () => {
        const server = scriptOf(byName(plan, "zabbix-server-osa-zbx1"));
        expect(server).toContain(`DBTLSConnect=verify_full\nDBTLSCAFile=${DATABASE_CA_FILE}\n`);
        const frontend = scriptOf(byName(plan, "osa-web1-frontend-web"));
        expect(frontend).toContain(`$DB['CA_FILE']     = '${DATABASE_CA_FILE}';`);
        expect(frontend).toContain("$DB['VERIFY_HOST'] = true;");
        expect(scriptOf(byName(plan, "zabbix-db-schema"))).toContain(
            `PGSSLMODE=verify-full PGSSLROOTCERT=${DATABASE_CA_FILE}`,
        );
    });

    test("the TLS step installs it on the hosts that reach the database, and only there", () => {
        for (const client of ["osaka-osa-zbx1-tls", "osaka-osa-web1-tls"]) {
            const step = byName(plan, client);
            expect(scriptOf(step)).toContain(`zha_put_file '${DATABASE_CA_FILE}' 0644 root:root`);
            expect(String(step.inputs.stdin)).toContain(encoded);
        }
        const lb = byName(plan, "osaka-osa-lb1-tls");
        expect(scriptOf(lb)).toContain(`rm -f '${DATABASE_CA_FILE}'`);
        expect(String(lb.inputs.stdin)).not.toContain(encoded);
    });
});
