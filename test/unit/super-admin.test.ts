import * as pulumi from "@pulumi/pulumi";
import { compareSync } from "bcryptjs";
import { SET_AS_SECRET } from "../../components/config";
import { SUPER_ADMIN_PASSWORD_OUTPUT } from "../../components/zabbix";
import { BCRYPT_COST, CapturedPlan, CapturedResource, capturePlan, ofType } from "../../tools/offline/capture";
import { toEngineConfig } from "../../tools/offline/environment";
import { StackOutputs } from "../../stacks/patterns";
import { runStack } from "../../stacks/program";
import { deployedFacts, superAdminPassword } from "../../tools/lab/replay";
import { TEST_SSH_KEY, byName, configProblems, twoSiteConfig } from "../support/plan";

const RANDOM = "random:index/randomPassword:RandomPassword";
const SYNC = { minSites: 2, requiredRoles: [], selfRunDatabase: true, sections: ["configSync"] } as const;

/** Plans twoSiteConfig through the stack program, keeping what the program returned, Outputs and all. */
async function planKeepingOutputs(): Promise<{ plan: CapturedPlan; outputs: StackOutputs; outputIsSecret: boolean }> {
    const { config, secretKeys } = toEngineConfig(twoSiteConfig());
    config["zabbix-ha:sshPrivateKey"] = TEST_SSH_KEY;
    secretKeys.push("zabbix-ha:sshPrivateKey");
    let outputs: StackOutputs | undefined;
    let outputIsSecret = false;
    const plan = await capturePlan(
        async () => {
            outputs = await runStack();
            outputIsSecret = await pulumi.isSecret(outputs.zabbixAdminPassword);
            return outputs;
        },
        { config, secretKeys, stack: "test" },
    );
    expect(plan.error).toBeUndefined();
    return { plan, outputs: outputs!, outputIsSecret };
}

describe("the Zabbix Super Admin's generated password", () => {
    let plan: CapturedPlan;
    let outputIsSecret: boolean;
    let generated: CapturedResource;
    let schema: CapturedResource;
    beforeAll(async () => {
        ({ plan, outputIsSecret } = await planKeepingOutputs());
        generated = byName(plan, "zabbix-ha-super-admin-password");
        schema = byName(plan, "zabbix-db-schema");
    });

    test("is one RandomPassword of 32 letters and digits, exported as the secret output zabbixAdminPassword", () => {
        expect(generated.type).toBe(RANDOM);
        expect(generated.inputs).toMatchObject({ length: 32, special: false });
        expect(ofType(plan, RANDOM).filter(r => r.name.includes("super-admin"))).toHaveLength(1);
        expect(SUPER_ADMIN_PASSWORD_OUTPUT).toBe("zabbixAdminPassword");
        expect(plan.outputs?.zabbixAdminPassword).toBe(generated.outputs.result);
        expect(outputIsSecret).toBe(true);
    });

    test("the lab reads it off the plan's outputs, as its state keeps them (JSON), for the drills' API login", () => {
        const kept = JSON.parse(JSON.stringify(deployedFacts({ ...plan, notes: [] })));
        expect(superAdminPassword(kept.outputs)).toBe(generated.outputs.result);
        expect(superAdminPassword({})).toBeUndefined();
    });

    test("the capture's bcryptHash is a real bcrypt hash of its result", () => {
        const { result, bcryptHash } = generated.outputs as { result: string; bcryptHash: string };
        expect(bcryptHash).toMatch(new RegExp(`^\\$2[aby]\\$0${BCRYPT_COST}\\$[./A-Za-z0-9]{53}$`));
        expect(compareSync(result, bcryptHash)).toBe(true);
        expect(compareSync("zabbix", bcryptHash)).toBe(false);
    });

    test("the schema step gets the hash on stdin, after the DB password, as a secret; its command text holds neither", () => {
        const { result, bcryptHash } = generated.outputs as { result: string; bcryptHash: string };
        const stdin = String(schema.inputs.stdin).split("\n");
        expect(stdin[1]).toBe(bcryptHash);
        expect(schema.secretInputs).toContain("stdin");
        const text = String(schema.inputs.create);
        expect(text).not.toContain(bcryptHash);
        expect(text).not.toContain(result);
        expect(text).toMatch(/read -r ZABBIX_DB_PASSWORD[\s\S]*read -r ZABBIX_ADMIN_PASSWORD_HASH/);
        // The password itself reaches no host: only its hash is needed there.
        for (const c of ofType(plan, "command:remote:Command")) {
            expect({ step: c.name, holds: String(c.inputs.stdin ?? "").includes(result) }).toEqual({
                step: c.name,
                holds: false,
            });
        }
    });

    test("the schema step sets the hash in the load's transaction and on a loaded schema", () => {
        const text = String(schema.inputs.create);
        expect(text).toMatch(
            /\{ for zha_f in "\$@"; do zcat "\$zha_f"; done; zha_super_admin_sql; \} \| zha_zabbix_sql --single-transaction/,
        );
        expect(text).toMatch(/already loaded"\n\s*zha_super_admin_sql \| zha_zabbix_sql --single-transaction/);
    });
});

describe("the config sync's password", () => {
    const options = (zabbixApiPassword: boolean) => ({
        secrets: { sshPrivateKey: SET_AS_SECRET, ...(zabbixApiPassword ? { zabbixApiPassword: SET_AS_SECRET } : {}) },
        requirements: SYNC,
    });
    const withApiUser = (apiUser?: string) => ({ ...twoSiteConfig(), configSync: apiUser ? { apiUser } : {} });

    test("Admin (the default) needs no zabbixApiPassword: it logs in with the generated one", () => {
        expect(configProblems(withApiUser(), options(false))).toEqual([]);
    });

    test("Admin with a zabbixApiPassword is refused, naming the key and the output", () => {
        expect(configProblems(withApiUser("Admin"), options(true))).toEqual([
            expect.stringMatching(
                /^zabbixApiPassword: is set, but configSync\.apiUser is Admin, whose password the stack generates \(output zabbixAdminPassword\)/,
            ),
        ]);
    });

    test("another user needs zabbixApiPassword", () => {
        expect(configProblems(withApiUser("zabbix.sync"), options(false))).toEqual([
            expect.stringMatching(
                /^zabbixApiPassword: is required with configSync\.apiUser zabbix\.sync: .*`pulumi config set --secret zabbixApiPassword`/,
            ),
        ]);
        expect(configProblems(withApiUser("zabbix.sync"), options(true))).toEqual([]);
    });
});
