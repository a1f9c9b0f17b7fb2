/**
 * Secret config keys must be Pulumi secrets, and a one-line secret must be one line: the real stack
 * program planned offline, with secrets handed over as `pulumi config set --secret` (or a stack
 * file's `secure:` value) hands them over, and with the same values as plain text.
 */
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { stringify } from "yaml";
import { ConfigError, SECRET_KEYS, setSecretCommand } from "../../components/config";
import { RESOURCE_TYPES } from "../../components/facts";
import { PATTERNS } from "../../stacks/patterns";
import { ofType } from "../../tools/offline/capture";
import { readEnvironment, toEngineConfig } from "../../tools/offline/environment";
import { StackPlan, planEnvironment } from "../../tools/offline/stack";
import { ROOT, TEST_SSH_KEY, operatorCa, twoSiteConfig } from "../support/plan";

const namespaced = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [`zabbix-ha:${k}`, v]));

/** Plans the two-site config with the given secrets set as secrets and the given values set as plain text. */
function plan(secrets: Record<string, string>, plain: Record<string, string> = {}): Promise<StackPlan> {
    return planEnvironment(
        { file: "Pulumi.test.yaml", ...toEngineConfig(twoSiteConfig()) },
        { secrets: namespaced(secrets), overrides: namespaced(plain) },
    );
}

function problemsOf(result: StackPlan): { path: string; message: string }[] {
    expect(result.error).toBeInstanceOf(ConfigError);
    return [...(result.error as ConfigError).problems];
}

const A_PASSWORD = "correct-horse-battery";

describe("secret config keys", () => {
    test("the SSH key set as a secret plans", async () => {
        expect((await plan({ sshPrivateKey: TEST_SSH_KEY })).error).toBeUndefined();
    });

    test.each(SECRET_KEYS)("%s set as plain text is an error naming it and the command that sets it", async key => {
        const value = key === "sshPrivateKey" ? TEST_SSH_KEY : A_PASSWORD;
        const secrets: Record<string, string> = key === "sshPrivateKey" ? {} : { sshPrivateKey: TEST_SSH_KEY };
        // A key that goes with another (the CA's key with its certificate) is planned with it.
        const companion: Record<string, string> =
            key === "pkiCaPrivateKey" ? { pki: JSON.stringify({ caCertificate: operatorCa().certPem }) } : {};
        const result = await plan(secrets, { [key]: value, ...companion });
        const problems = problemsOf(result).filter(p => p.path === key);
        expect(problems).toEqual([
            {
                path: key,
                message: expect.stringContaining(`\`pulumi config set --secret ${key}`),
            },
        ]);
        expect(problems[0].message).toContain(`\`${setSecretCommand(key)}\``);
        // The error never repeats the value it refuses.
        expect(result.error!.message).not.toContain(value);
        expect(result.resources.filter(r => r.custom)).toEqual([]);
    });

    test("the SSH key's command reads the key file", () => {
        expect(setSecretCommand("sshPrivateKey")).toBe("pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519");
        expect(setSecretCommand("zabbixApiPassword")).toBe("pulumi config set --secret zabbixApiPassword");
    });

    test("in a stack file: a plain value is refused, a secure: value (as pulumi config set --secret writes it) plans", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "zha-secret-"));
        try {
            const write = (name: string, cloudDbAdminPassword: unknown) => {
                const file = path.join(dir, `Pulumi.${name}.yaml`);
                const config = {
                    ...Object.fromEntries(Object.entries(twoSiteConfig()).map(([k, v]) => [`zabbix-ha:${k}`, v])),
                    "zabbix-ha:sshPrivateKey": { secure: "v1:AAAA" },
                    "zabbix-ha:cloudDbAdminPassword": cloudDbAdminPassword,
                };
                writeFileSync(file, stringify({ config }));
                return readEnvironment(file);
            };
            const plain = await planEnvironment(write("plain", A_PASSWORD));
            expect(problemsOf(plain).map(p => p.path)).toEqual(["cloudDbAdminPassword"]);
            const secure = await planEnvironment(write("secure", { secure: "v1:BBBB" }));
            expect(secure.error).toBeUndefined();
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a password with a line break is refused without repeating it; a key file's lines are its own", async () => {
        const result = await plan({ sshPrivateKey: TEST_SSH_KEY, zabbixApiPassword: "first-line\nsecond-line" });
        expect(problemsOf(result)).toEqual([
            {
                path: "zabbixApiPassword",
                message: expect.stringMatching(
                    /^holds a line break: a host reads it as one line .*`pulumi config set --secret zabbixApiPassword`/,
                ),
            },
        ]);
        expect(result.error!.message).not.toMatch(/first-line|second-line/);
        expect(TEST_SSH_KEY).toContain("\n");
        expect((await plan({ sshPrivateKey: `${TEST_SSH_KEY}\n` })).error).toBeUndefined();
    });

    test("a trailing line break counts too: the hosts would read the password without it, the provider with it", async () => {
        const result = await plan({ sshPrivateKey: TEST_SSH_KEY, fencePassword: `${A_PASSWORD}\n` });
        expect(problemsOf(result).map(p => p.path)).toEqual(["fencePassword"]);
    });

    // The library's own passwords are letters and digits: none can hold a line break.
    test.each(PATTERNS.map(p => p.name))(
        "pattern %s: every generated password is letters and digits",
        async pattern => {
            const prod = await planEnvironment(readEnvironment(path.join(ROOT, "Pulumi.prod.yaml")), {
                placeholderSecrets: true,
                overrides: { "zabbix-ha:pattern": pattern },
            });
            expect(prod.error).toBeUndefined();
            const generated = ofType(prod, RESOURCE_TYPES.randomPassword);
            expect(generated.length).toBeGreaterThan(0);
            for (const password of generated) {
                expect([password.name, password.inputs.special, password.inputs.overrideSpecial]).toEqual([
                    password.name,
                    false,
                    undefined,
                ]);
                expect(String(password.outputs.result)).toMatch(/^[A-Za-z0-9]+$/);
            }
        },
    );
});
