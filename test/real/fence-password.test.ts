/**
 * The fence password as fence-agents itself handles it: the file the pair's cluster step writes
 * from the secret fencePassword, read by a real fence_ipmilan through the password_script the CIB
 * gives it (fence-agents runs that with os.popen); and the list of secret parameters held against
 * what every installed agent's own metadata says its parameters are.
 */
import { readFileSync } from "fs";
import { readdir } from "fs/promises";
import * as path from "path";
import { FENCE_PASSWORD_FILE, fenceParameterHoldsSecret } from "../../components/drbd";
import { PRELUDE } from "../../components/shell";
import { readEnvironment } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { ROOT, TEST_SSH_KEY, byName, plannedFiles, scriptOf } from "../support/plan";
import { requireClusterFile } from "./cluster-support";
import { putFile, run, scratchSpace } from "./support";

jest.setTimeout(120_000);

const scratch = scratchSpace();
/** Shell metacharacters and quotes: what the file holds must be the password, byte for byte. */
const FENCE_PASSWORD = `ipmi-Pa55'w"rd$(id)\`id\` $HOME\\n`;

/** The fallback pair planned with fencePassword set as a secret. */
async function pairPlan() {
    const plan = await planEnvironment(readEnvironment(path.join(ROOT, "test", "fixtures", "fallback-pair.yaml")), {
        secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY, "zabbix-ha:fencePassword": FENCE_PASSWORD },
    });
    if (plan.error) {
        throw plan.error;
    }
    return plan;
}

/**
 * A stand-in ipmitool that records the arguments fence_ipmilan gives it, one a line, and answers
 * as a powered-on chassis does.
 */
async function fakeIpmitool(dir: string): Promise<{ tool: string; args: () => string[] }> {
    const log = path.join(dir, "ipmitool.args");
    const tool = await putFile(
        path.join(dir, "ipmitool"),
        `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\necho "Chassis Power is on"\n`,
        0o755,
    );
    return { tool, args: () => readFileSync(log, "utf8").split("\n").slice(0, -1) };
}

/** fence_ipmilan's status action with these parameters on stdin, as Pacemaker's fencer passes them. */
function fenceIpmilan(params: Record<string, string>) {
    const input = Object.entries({ action: "status", ...params })
        .map(([k, v]) => `${k}=${v}\n`)
        .join("");
    return run(requireClusterFile("/usr/sbin/fence_ipmilan"), [], { input });
}

/** What follows `-P` in ipmitool's arguments: the password fence_ipmilan used. */
function passwordGiven(args: readonly string[]): string | undefined {
    const at = args.indexOf("-P");
    return at < 0 ? undefined : args[at + 1];
}

describe("the fence password from config to the fence agent", () => {
    test("the cluster step's file holds the secret as it was set, and fence_ipmilan logs in with it through password_script", async () => {
        const plan = await pairPlan();
        const dir = await scratch.dir("fence-password");
        const file = path.join(dir, "fence-password");
        const step = byName(plan, "zabbix-db-pair-tyo-db1-cluster");
        const text = scriptOf(step);
        // The step's own lines: its prelude, its reads of stdin, and the fragment that writes the file (moved here).
        const put = new RegExp(
            `^zha_dir [^\\n]*\\nzha_put_file '${FENCE_PASSWORD_FILE}' [^\\n]*<<ZHA_EOF\\n[^]*?^ZHA_EOF$`,
            "m",
        ).exec(text);
        expect(put).not.toBeNull();
        expect(text.startsWith(PRELUDE)).toBe(true);
        const reads = text.match(/^IFS= read -r \w+$/gm)!;
        expect(reads).toEqual(["IFS= read -r COROSYNC_KEY", "IFS= read -r FENCE_PASSWORD"]);
        const fragment = [
            PRELUDE,
            ...reads,
            put![0].split(FENCE_PASSWORD_FILE).join(file).split("'/etc/zabbix-ha'").join(`'${dir}'`),
        ].join("\n");
        const written = await run("sh", ["-c", fragment], { input: String(step.inputs.stdin) });
        expect(written.code).toBe(0);
        expect(readFileSync(file, "utf8")).toBe(`${FENCE_PASSWORD}\n`);

        const cib = plannedFiles(plan).find(f => f.path.endsWith("/cib.xml"))!.content;
        const script = /<nvpair id="[^"]*tyo-db1[^"]*" name="password_script" value="([^"]*)"\/>/.exec(cib)?.[1];
        expect(script).toBe(`cat ${FENCE_PASSWORD_FILE}`);
        const ipmitool = await fakeIpmitool(dir);
        const fenced = await fenceIpmilan({
            ip: "127.0.0.1",
            username: "fence",
            password_script: script!.split(FENCE_PASSWORD_FILE).join(file),
            ipmitool_path: ipmitool.tool,
        });
        expect(fenced.stdout).toContain("Status: ON");
        expect(passwordGiven(ipmitool.args())).toBe(FENCE_PASSWORD);
    });

    test("password_script set to the file's path (what the config now refuses) runs the file: an empty password", async () => {
        const dir = await scratch.dir("fence-path");
        const file = await putFile(path.join(dir, "fence-password"), `${FENCE_PASSWORD}\n`, 0o600);
        const ipmitool = await fakeIpmitool(dir);
        const fenced = await fenceIpmilan({
            ip: "127.0.0.1",
            username: "fence",
            password_script: file,
            ipmitool_path: ipmitool.tool,
        });
        expect(fenced.stderr).toContain("Permission denied");
        expect(passwordGiven(ipmitool.args())).toBe("");
    });
});

test("every installed fence agent's parameter that its metadata calls a secret is refused, and no other", async () => {
    const agents = (await readdir("/usr/sbin")).filter(f => f.startsWith("fence_")).map(f => path.join("/usr/sbin", f));
    expect(agents).toContain(requireClusterFile("/usr/sbin/fence_ipmilan"));
    const metadata = await Promise.all(agents.map(agent => run(agent, ["-o", "metadata"], { timeoutMs: 30_000 })));
    const params = new Map<string, string>();
    for (const m of metadata) {
        for (const [, name, description] of m.stdout.matchAll(
            /<parameter name="([^"]+)"[^]*?<shortdesc lang="en">([^<]*)</g,
        )) {
            params.set(`${name}: ${description.trim()}`, name);
        }
    }
    expect(params.size).toBeGreaterThan(200);
    // What the agents' own words call a secret value (not where one is: a script, a file, a path).
    const described = [...params].filter(
        ([text]) =>
            /password|passphrase|secret|api key|api token|access key|community|kg key|authentication key/i.test(text) &&
            !/script|file|path|without password/i.test(text),
    );
    expect(described.length).toBeGreaterThan(5);
    expect([...new Set(described.map(([, name]) => name))].sort()).toEqual(
        [...new Set([...params.values()].filter(fenceParameterHoldsSecret))].sort(),
    );
});
