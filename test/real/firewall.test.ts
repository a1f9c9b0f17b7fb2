/**
 * The host firewall's rulesets, handed to the real nft: every host's ruleset of every pattern that
 * the shipped environments and fixtures form, with the firewall on, passes `nft -c -f` (the kernel
 * checks the whole transaction) in a network namespace of its own. One is then loaded for real
 * beside an operator's table, twice: loading it replaces its own table alone.
 */
import { readdirSync, writeFileSync } from "fs";
import * as path from "path";
import { FIREWALL_CANDIDATE, FIREWALL_FAMILY, FIREWALL_TABLE } from "../../components/firewall";
import { PATTERNS } from "../../stacks/patterns";
import { readEnvironment } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { ROOT, TEST_SSH_KEY, plannedFiles } from "../support/plan";
import { requireTool, run, scratchSpace } from "./support";

jest.setTimeout(600_000);

const scratch = scratchSpace();

const FILES = [
    "Pulumi.dev.yaml",
    "Pulumi.prod.yaml",
    ...readdirSync(path.join(ROOT, "test/fixtures")).map(f => `test/fixtures/${f}`),
    ...readdirSync(path.join(ROOT, "lab")).map(f => `lab/${f}`),
].filter(f => f.endsWith(".yaml"));

interface Ruleset {
    readonly label: string;
    readonly content: string;
}

/** Every host's ruleset under every pattern each file plans under, with the firewall on. */
async function rulesets(): Promise<Ruleset[]> {
    const found: Ruleset[] = [];
    for (const file of FILES) {
        const env = readEnvironment(path.join(ROOT, file));
        const firewall = JSON.parse(env.config["zabbix-ha:firewall"] ?? "{}");
        for (const pattern of PATTERNS) {
            const plan = await planEnvironment(env, {
                placeholderSecrets: true,
                secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
                overrides: {
                    "zabbix-ha:pattern": pattern.name,
                    "zabbix-ha:firewall": JSON.stringify({ ...firewall, enabled: true }),
                },
            });
            if (plan.error) {
                continue; // The file does not form this pattern; its own tests say why.
            }
            found.push(
                ...plannedFiles(plan)
                    .filter(f => f.path === FIREWALL_CANDIDATE)
                    .map(f => ({ label: `${file} as ${pattern.name}: ${f.host}`, content: f.content })),
            );
        }
    }
    return found;
}

/** Runs a shell command in a fresh network namespace (nft needs CAP_NET_ADMIN there only). */
function inNetns(command: string) {
    return run(requireTool("unshare"), ["-n", "sh", "-c", command]);
}

describe("host firewall rulesets, checked by nft", () => {
    let all: Ruleset[];
    beforeAll(async () => {
        requireTool("nft");
        all = await rulesets();
    });

    test("every pattern forms from the shipped files, each host with a ruleset", () => {
        const patterns = new Set(all.map(r => r.label.replace(/^.* as ([^:]+):.*$/, "$1")));
        expect([...patterns].sort()).toEqual(PATTERNS.map(p => p.name).sort());
    });

    test("nft -c -f accepts every ruleset", async () => {
        const dir = await scratch.dir("firewall-check");
        const refused: { label: string; error: string }[] = [];
        for (const [i, r] of all.entries()) {
            const file = path.join(dir, `${i}.nft`);
            writeFileSync(file, r.content);
            const out = await inNetns(`nft -c -f ${file}`);
            if (out.code !== 0) {
                refused.push({ label: r.label, error: (out.stderr || out.stdout).trim() });
            }
        }
        expect(refused).toEqual([]);
    });

    test("a ruleset that nft refuses fails the check (the check is not a no-op)", async () => {
        const dir = await scratch.dir("firewall-bad");
        const file = path.join(dir, "bad.nft");
        writeFileSync(file, all[0].content.replace("policy drop;", "policy maybe;"));
        const out = await inNetns(`nft -c -f ${file}`);
        expect(out.code).not.toBe(0);
    });

    test("loading it twice replaces its own table and leaves an operator's table alone", async () => {
        const dir = await scratch.dir("firewall-load");
        const file = path.join(dir, "host.nft");
        const prod = all.find(r => r.label.startsWith("Pulumi.prod.yaml as zabbix-ha: 198.18.10.11"))!;
        expect(prod).toBeDefined();
        writeFileSync(file, prod.content);
        const table = `${FIREWALL_FAMILY} ${FIREWALL_TABLE}`;
        const out = await inNetns(
            [
                "set -e",
                "nft add table inet operator",
                "nft add chain inet operator input '{ type filter hook input priority 10; policy accept; }'",
                `nft -f ${file}`,
                `nft -f ${file}`,
                "nft list table inet operator",
                "echo ---",
                `nft list table ${table}`,
            ].join("\n"),
        );
        expect(out.code).toBe(0);
        const [operator, ours] = out.stdout.split("---\n");
        expect(operator).toMatch(/table inet operator \{\s+chain input \{/);
        // Loaded twice, one chain and one rule per port: the second load replaced the first.
        expect(ours.match(/chain input/g)?.length).toBe(1);
        expect(ours.match(/tcp dport 5432 /g)?.length).toBe(1);
        expect(ours).toContain("policy drop");
        expect(ours).toMatch(/tcp dport 2380 ip saddr \{ 198\.18\.20\.11, 198\.18\.30\.11 \} accept/);
    });
});
