import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { stringify } from "yaml";
import { readEnvironment, SECRET_PLACEHOLDER, toEngineConfig } from "../../tools/offline/environment";
import { StackPlan, planEnvironment } from "../../tools/offline/stack";
import { comparePatterns } from "../../tools/preview/compare";
import { summarizePlan } from "../../tools/preview/summary";
import { PATTERNS } from "../../stacks/patterns";
import { ROOT, twoSiteConfig } from "../support/plan";

describe("stack files", () => {
    test("structured values become JSON, secure values a secret placeholder", () => {
        const { config, secretKeys } = toEngineConfig({ "zabbix-ha:failoverDelay": "10s", sites: [{ name: "a" }], "zabbix-ha:sshPrivateKey": { secure: "v1:abc" } });
        expect(config).toEqual({
            "zabbix-ha:failoverDelay": "10s",
            "zabbix-ha:sites": '[{"name":"a"}]',
            "zabbix-ha:sshPrivateKey": SECRET_PLACEHOLDER,
        });
        expect(secretKeys).toEqual(["zabbix-ha:sshPrivateKey"]);
    });

    test("a file without config: is rejected with its name", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "zha-env-"));
        try {
            const file = path.join(dir, "Pulumi.x.yaml");
            writeFileSync(file, "encryptionsalt: abc\n");
            expect(() => readEnvironment(file)).toThrow(`${file}: no "config:" mapping`);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the preview", () => {
    test("plans dev with a placeholder SSH key and says so", async () => {
        const plan = await planEnvironment(readEnvironment(path.join(ROOT, "Pulumi.dev.yaml")), { placeholderSecrets: true });
        expect(plan.error).toBeUndefined();
        expect(plan.notes).toContainEqual(expect.stringContaining("sshPrivateKey is not set"));
        const text = summarizePlan(plan);
        expect(text).toContain("Stack zabbix-ha/dev");
        expect(text).toMatch(/^ {2}tokyo\n {4}tyo-zbx1 +198\.18\.1\.10 +ssh root$/m);
        expect(text).toMatch(/zabbix-ha:postgres:PostgresCluster +zabbix-db +\d+ resources/);
        const customs = plan.resources.filter(r => r.custom).length;
        expect(text).toContain(`; ${customs} in all`);
    });

    test("reports every problem of a broken stack file", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "zha-env-"));
        try {
            const raw = twoSiteConfig();
            raw.sites[0].hosts[0].roles = ["db", "web"];
            raw.failoverDelay = "2h";
            const file = path.join(dir, "Pulumi.broken.yaml");
            writeFileSync(file, stringify({ config: Object.fromEntries(Object.entries(raw).map(([k, v]) => [`zabbix-ha:${k}`, v])) }));
            const plan = await planEnvironment(readEnvironment(file), { placeholderSecrets: true });
            expect(plan.error?.message).toContain('sites[0].hosts[0].roles[1]: unknown role "web"');
            expect(plan.error?.message).toContain("failoverDelay:");
            expect(plan.stack).toBe("broken");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

test("the comparison hands over each pattern's plan once, planned as that pattern (the preview prints the configured one)", async () => {
    const seen: { name: string; plan: StackPlan }[] = [];
    const report = await comparePatterns(readEnvironment(path.join(ROOT, "Pulumi.dev.yaml")), { onPlan: (name, plan) => seen.push({ name, plan }) });
    expect(seen.map(s => s.name)).toEqual(PATTERNS.map(p => p.name));
    for (const { name, plan } of seen) {
        const reported = report.patterns.find(p => p.name === name)!;
        const planned = (plan.outputs as { topology?: { pattern: { name: string } } } | undefined)?.topology?.pattern.name;
        expect({ name, planned: plan.error ? "failed" : planned, reportedErrors: reported.errors.length > 0 })
            .toEqual({ name, planned: plan.error ? "failed" : name, reportedErrors: !!plan.error });
    }
});
