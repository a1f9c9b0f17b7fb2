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
import { planViolations } from "../../tools/preview/compare";
import { sshHostKeyPinned } from "../../policies/rules";
import { withHostKeys } from "../../tools/lab/replay/plan";

/** A real ed25519 public key (ssh-keygen), standing in for the keys the lab makes. */
const EXAMPLE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPUUbKbVxDY2vMbrGydUaaHoyF6V/0gJ4AOInjXwyRxz";

const SHIPPED = [
    "Pulumi.dev.yaml",
    "Pulumi.prod.yaml",
    ...readdirSync(path.join(ROOT, "lab"))
        .filter(f => f.endsWith(".yaml"))
        .sort()
        .map(f => `lab/${f}`),
];

const preview = (file: string) => runPreview(parsePreviewArgs(["--config", path.join(ROOT, file)]));

/**
 * Each mandatory violation of any pattern: reported once, and printed once for each pattern that
 * breaks it (lines wrap to the terminal's width).
 */
function expectEachViolationOnce(run: PreviewRun): void {
    const words = (text: string) => text.replace(/\s+/g, " ");
    const printed = words([...run.stdout, ...run.stderr].join("\n"));
    const mandatory = (pattern: PreviewRun["report"]["patterns"][number]) =>
        pattern.violations.filter(v => v.level === "mandatory").map(v => v.message);
    for (const pattern of run.report.patterns) {
        const messages = mandatory(pattern);
        expect({ pattern: pattern.name, messages: [...new Set(messages)] }).toEqual({
            pattern: pattern.name,
            messages,
        });
        for (const message of messages) {
            const patterns = run.report.patterns.filter(p => mandatory(p).includes(message)).length;
            expect({ message, printed: printed.split(words(message)).length - 1 }).toEqual({
                message,
                printed: patterns,
            });
        }
    }
}

/** The lab's configs pin no host keys: the lab makes its hosts' keys and writes them into its plan. */
const isLabConfig = (file: string) => file.startsWith("lab/");

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

    test("the config validates and the configured pattern breaks no mandatory rule: exit 0 (a lab config: none but the host keys the lab pins, exit 1)", async () => {
        const env = readEnvironment(path.join(ROOT, file));
        const plan = await planEnvironment(env, { placeholderSecrets: true });
        expect(plan.error).toBeUndefined();
        const configured = (plan.outputs as { topology: { pattern: { name: string } } }).topology.pattern.name;
        const violations = run.report.patterns.find(p => p.name === configured)!.violations;
        const mandatory = violations.filter(v => v.level === "mandatory");
        if (!isLabConfig(file)) {
            expect(mandatory).toEqual([]);
            expect(run.stderr).toEqual([]);
            expect(run.exitCode).toBe(0);
            return;
        }
        expect(new Set(mandatory.map(v => v.policy))).toEqual(new Set([sshHostKeyPinned.name]));
        expect(run.exitCode).toBe(1);
        // With the keys the lab makes written in, as `npm run lab -- up` plans it: nothing left.
        const hosts = JSON.parse(env.config["zabbix-ha:sites"]) as { hosts: { name: string }[] }[];
        const keys = new Map(hosts.flatMap(site => site.hosts).map(h => [h.name, EXAMPLE_HOST_KEY]));
        const pinned = await planEnvironment(env, {
            placeholderSecrets: true,
            overrides: { "zabbix-ha:sites": withHostKeys(env.config["zabbix-ha:sites"], keys) },
        });
        expect((await planViolations(pinned)).filter(v => v.level === "mandatory")).toEqual([]);
    });

    test("each mandatory violation message appears once", () => expectEachViolationOnce(run));
});

test("a config whose pattern breaks a rule exits 1 and prints each violation once", async () => {
    const run = await preview("test/fixtures/ha-nodes-one-site.yaml");
    expect(run.exitCode).toBe(1);
    expect(run.stderr.join("\n")).toContain("pattern zabbix-ha has 1 mandatory violation(s) of ha-nodes-span-sites");
    expectEachViolationOnce(run);
}, 60_000);
