/**
 * The host firewall's rulesets, handed to the real nft: every host's ruleset of every pattern that
 * the shipped environments and fixtures form, with the firewall on, passes `nft -c -f` (the kernel
 * checks the whole transaction) in a network namespace of its own. One is then loaded for real
 * beside an operator's table, twice: loading it replaces its own table alone. And a connection opened
 * before the first load, whose client waits for its server's answer, gets it only when the step's
 * tracking table came first (the kernel's behaviour that hung the lab's schema load).
 */
import { readdirSync, writeFileSync } from "fs";
import * as path from "path";
import {
    FIREWALL_CANDIDATE,
    FIREWALL_FAMILY,
    FIREWALL_TABLE,
    TRACKING_TABLE,
    renderRuleset,
    startTracking,
    stopTracking,
} from "../../components/firewall";
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

    /**
     * Two namespaces joined by a veth: a server on b answers 3 s after a question; the client on a
     * asks, and a's firewall (admitting nothing from b) loads while it waits, as `load` does.
     */
    async function answerAfterLoad(load: string): Promise<{ answered: boolean; detail: string }> {
        const dir = await scratch.dir("firewall-inflight");
        const loadScript = path.join(dir, "load.sh");
        writeFileSync(loadScript, `set -e\n${load}\n`);
        const tag = `${process.pid % 100000}`;
        const node = process.execPath;
        const server = `require("net").createServer(s => s.once("data", () => setTimeout(() => s.end("answer\\n"), 3000))).listen(7000, "198.18.250.2")`;
        const client = `const c = require("net").connect(7000, "198.18.250.2", () => c.write("question\\n")); c.on("data", d => { console.log("got " + d.toString().trim()); process.exit(0); }); setTimeout(() => { console.log("no answer"); process.exit(0); }, 12000);`;
        const out = await run("sh", [
            "-c",
            `set -e
A=zhat-a-${tag}; B=zhat-b-${tag}
ip netns add $A; ip netns add $B
SERVER=
trap 'if [ -n "$SERVER" ]; then kill $SERVER; fi; ip netns del $A; ip netns del $B' EXIT
ip link add va${tag} netns $A type veth peer name vb${tag} netns $B
ip -n $A addr add 198.18.250.1/24 dev va${tag}; ip -n $A link set va${tag} up
ip -n $B addr add 198.18.250.2/24 dev vb${tag}; ip -n $B link set vb${tag} up
ip netns exec $B ${node} -e '${server}' & SERVER=$!
sleep 1
ip netns exec $A ${node} -e '${client}' > ${dir}/client.out & CLIENT=$!
sleep 0.5
ip netns exec $A sh ${loadScript}
wait $CLIENT
ip netns exec $A nft list tables
cat ${dir}/client.out`,
        ]);
        return { answered: /got answer/.test(out.stdout), detail: out.stdout + out.stderr };
    }

    test("a connection in flight when the first table loads: dropped without the tracking table, answered with it", async () => {
        const file = path.join(await scratch.dir("firewall-inflight-file"), "host.nft");
        writeFileSync(file, renderRuleset({ host: "a", roles: [], flows: [] }));
        const plain = await answerAfterLoad(`nft -f ${file}`);
        const tracked = await answerAfterLoad(`${startTracking("nft")}\nnft -f ${file}\n${stopTracking("nft")}`);
        expect({ plain: plain.answered, tracked: tracked.answered }).toEqual({ plain: false, tracked: true });
        // The tracking table is gone once the drop table is loaded.
        expect(tracked.detail).toContain(`table ${FIREWALL_FAMILY} ${FIREWALL_TABLE}`);
        expect(tracked.detail).not.toContain(TRACKING_TABLE);
    });
});
