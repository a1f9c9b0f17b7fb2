/**
 * Every stack settings file the repository ships goes through `npm run preview -- --config FILE`
 * cleanly: the same code path (planEnvironment and the policy harness), asserting what makes the
 * command exit 0, and that no violation is printed twice.
 */
import { readdirSync } from "fs";
import * as path from "path";
import { readEnvironment } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { parsePreviewArgs } from "../../tools/preview/args";
import { PreviewRun, runPreview } from "../../tools/preview/run";
import { ROOT } from "../support/plan";

const SHIPPED = [
    "Pulumi.dev.yaml",
    "Pulumi.prod.yaml",
    ...readdirSync(path.join(ROOT, "lab"))
        .filter(f => f.endsWith(".yaml"))
        .sort()
        .map(f => `lab/${f}`),
];

const preview = (file: string) => runPreview(parsePreviewArgs(["--config", path.join(ROOT, file)]));

/** Each mandatory violation of any pattern: reported once, and printed once (lines wrap to the terminal's width). */
function expectEachViolationOnce(run: PreviewRun): void {
    const words = (text: string) => text.replace(/\s+/g, " ");
    const printed = words([...run.stdout, ...run.stderr].join("\n"));
    for (const pattern of run.report.patterns) {
        const messages = pattern.violations.filter(v => v.level === "mandatory").map(v => v.message);
        expect({ pattern: pattern.name, messages: [...new Set(messages)] }).toEqual({
            pattern: pattern.name,
            messages,
        });
        for (const message of messages) {
            expect({ message, printed: printed.split(words(message)).length - 1 }).toEqual({ message, printed: 1 });
        }
    }
}

test("the shipped configs are the two environments and every lab config", () => {
    expect(SHIPPED).toEqual(
        expect.arrayContaining(["lab/Pulumi.lab.yaml", "lab/Pulumi.lab-patroni.yaml", "lab/Pulumi.lab-cloud.yaml"]),
    );
});

describe.each(SHIPPED)("npm run preview -- --config %s", file => {
    let run: PreviewRun;
    beforeAll(async () => {
        run = await preview(file);
    }, 60_000);

    test("the config validates and the configured pattern breaks no mandatory rule: exit 0", async () => {
        const env = readEnvironment(path.join(ROOT, file));
        const plan = await planEnvironment(env, { placeholderSecrets: true });
        expect(plan.error).toBeUndefined();
        const configured = (plan.outputs as { topology: { pattern: { name: string } } }).topology.pattern.name;
        const violations = run.report.patterns.find(p => p.name === configured)!.violations;
        expect(violations.filter(v => v.level === "mandatory")).toEqual([]);
        expect(run.stderr).toEqual([]);
        expect(run.exitCode).toBe(0);
    });

    test("each mandatory violation message appears once", () => expectEachViolationOnce(run));
});

test("a config whose pattern breaks a rule exits 1 and prints each violation once", async () => {
    const run = await preview("test/fixtures/ha-nodes-one-site.yaml");
    expect(run.exitCode).toBe(1);
    expect(run.stderr.join("\n")).toContain("pattern zabbix-ha has 1 mandatory violation(s) of ha-nodes-span-sites");
    expectEachViolationOnce(run);
}, 60_000);
