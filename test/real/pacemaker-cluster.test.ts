/**
 * The pair as Pacemaker and corosync run it: crm_simulate (where things run, and in what order,
 * before and after the preferred node fails), cibadmin (the load step against a file-backed CIB),
 * and corosync itself (`corosync -t`, then a real corosync on loopback reporting two_node).
 */
import { existsSync, readFileSync } from "fs";
import { rm, writeFile } from "fs/promises";
import * as path from "path";
import { renderCorosyncConf, renderPacemakerCib } from "../../components/drbd/render";
import { cibLoadStep } from "../../components/drbd/steps";
import { script } from "../../components/shell";
import { XmlElement, child, clusterTool, findAll, parseXml, runTool } from "./cluster-support";
import { RunResult, scratchSpace, waitFor } from "./support";
import { MEMBERS, cibInput, describeRun, edited, ids, tempFiles } from "./pacemaker-cases";

jest.setTimeout(60_000);

const scratch = scratchSpace();
const tempFile = tempFiles(scratch);

// ---------------------------------------------------------------------------------------------
// crm_simulate

interface Simulation {
    /** crm_simulate's --output-as=xml result. */
    readonly result: XmlElement;
    /** The transition graph (-G). */
    readonly graph: XmlElement;
    /** The cluster state after the transition (-O), for the next step. */
    readonly out: string;
}

async function simulate(cibFile: string, args: readonly string[]): Promise<Simulation> {
    const dir = path.dirname(cibFile);
    const out = path.join(dir, `${path.basename(cibFile, ".xml")}-next.xml`);
    const graph = path.join(dir, `${path.basename(cibFile, ".xml")}-graph.xml`);
    const r = await runTool("crm_simulate", ["-x", cibFile, ...args, "-S", "-O", out, "-G", graph, "--output-as=xml"]);
    if (r.code !== 0) {
        throw new Error(describeRun(r));
    }
    return { result: parseXml(r.stdout), graph: parseXml(readFileSync(graph, "utf8")), out };
}

async function setPromotionScores(cibFile: string, nodes: readonly string[]): Promise<void> {
    for (const node of nodes) {
        const r = await runTool(
            "crm_attribute",
            ["-N", node, "-l", "reboot", "-n", `master-${ids.drbd}`, "-v", "10000"],
            { env: { CIB_file: cibFile } },
        );
        if (r.code !== 0) {
            throw new Error(describeRun(r));
        }
    }
}

/** The transition's actions in the order crm_simulate executed them: "promote drbd-zabbix n2", "fence n1", ... */
function executed(s: Simulation): string[] {
    const transition = child(s.result, "transition");
    if (!transition) {
        throw new Error("crm_simulate printed no <transition>");
    }
    return transition.children.flatMap(a => {
        if (a.name === "rsc_action") {
            return [`${a.attrs.op} ${a.attrs.resource} ${a.attrs.node}`];
        }
        return a.name === "fencing_action" ? [`fence ${a.attrs.target}`] : [];
    });
}

/** Where each resource runs after the transition, and in what role: { fs: ["Started n2"], ... }. */
function placement(s: Simulation): Record<string, string[]> {
    const status = child(s.result, "revised_cluster_status");
    const where: Record<string, string[]> = {};
    for (const r of findAll(status!, "resource")) {
        for (const n of r.children.filter(c => c.name === "node")) {
            (where[r.attrs.id] ??= []).push(`${r.attrs.role} ${n.attrs.name}`);
        }
    }
    return where;
}

/** The graph's actions ("fs_start_0@n2", "stonith-n1-reboot@n1") and the actions each one waits for. */
function dependencies(graph: XmlElement): Map<string, Set<string>> {
    const key = (a: XmlElement) => `${a.attrs.operation_key}@${a.attrs.on_node ?? ""}`;
    const byId = new Map<string, string>();
    for (const set of findAll(graph, "action_set")) {
        for (const a of set.children) {
            byId.set(a.attrs.id, key(a));
        }
    }
    const deps = new Map<string, Set<string>>();
    for (const synapse of findAll(graph, "synapse")) {
        const action = child(synapse, "action_set")!.children[0];
        const inputs = new Set(
            (child(synapse, "inputs")?.children ?? []).flatMap(t =>
                t.children.map(a => byId.get(a.attrs.id) ?? key(a)),
            ),
        );
        deps.set(key(action), inputs);
    }
    return deps;
}

/** Throws unless `later` cannot run before `earlier` has (a path of inputs leads from one to the other). */
function expectWaitsFor(deps: Map<string, Set<string>>, later: string, earlier: string): void {
    if (!deps.has(later)) {
        throw new Error(`the transition has no action ${later}; it has ${[...deps.keys()].join(", ")}`);
    }
    const seen = new Set<string>();
    const todo = [later];
    while (todo.length > 0) {
        const a = todo.pop()!;
        for (const input of deps.get(a) ?? []) {
            if (input === earlier) {
                return;
            }
            if (!seen.has(input)) {
                seen.add(input);
                todo.push(input);
            }
        }
    }
    throw new Error(`${later} does not wait for ${earlier} in the transition graph`);
}

/** The group's start chain on `node`: promotion first, then each member after the one before it. */
function expectStartChain(deps: Map<string, Set<string>>, node: string): void {
    expectWaitsFor(deps, `fs_start_0@${node}`, `${ids.drbd}_promote_0@${node}`);
    MEMBERS.slice(1).forEach((m, i) => expectWaitsFor(deps, `${m}_start_0@${node}`, `${MEMBERS[i]}_start_0@${node}`));
}

describe("where the services run, and in what order (crm_simulate)", () => {
    /** Both nodes up with quorum (corosync two_node gives a pair quorum), then DRBD promotable on both. */
    async function runningCluster(cib: string): Promise<{ first: Simulation; promoted: Simulation }> {
        const cibFile = await tempFile("cib.xml", cib);
        const first = await simulate(cibFile, ["-q", "true", "-u", "n1", "-u", "n2"]);
        await setPromotionScores(first.out, ["n1", "n2"]);
        const promoted = await simulate(first.out, []);
        return { first, promoted };
    }

    test("both nodes up: nothing but DRBD and fencing starts until DRBD is promotable; then everything on the preferred node, in order", async () => {
        const { first, promoted } = await runningCluster(renderPacemakerCib(cibInput()));
        const before = placement(first);
        expect(before[ids.drbd].sort()).toEqual(["Unpromoted n1", "Unpromoted n2"]);
        MEMBERS.forEach(m => expect(before[m]).toBeUndefined());
        // Each fence device runs on the node it does not fence.
        expect(before["fence-n1"]).toEqual(["Started n2"]);
        expect(before["fence-n2"]).toEqual(["Started n1"]);

        const after = placement(promoted);
        expect(after[ids.drbd].sort()).toEqual(["Promoted n1", "Unpromoted n2"]);
        MEMBERS.forEach(m => expect(after[m]).toEqual(["Started n1"]));
        const starts = executed(promoted).filter(a => a.startsWith("start ") || a.startsWith("promote "));
        expect(starts).toEqual([`promote ${ids.drbd} n1`, ...MEMBERS.map(m => `start ${m} n1`)]);
        expectStartChain(dependencies(promoted.graph), "n1");
    });

    test("the preferred node decides where DRBD is promoted", async () => {
        const { promoted } = await runningCluster(renderPacemakerCib(cibInput({ preferredNode: "n2" })));
        const after = placement(promoted);
        expect(after[ids.drbd].sort()).toEqual(["Promoted n2", "Unpromoted n1"]);
        MEMBERS.forEach(m => expect(after[m]).toEqual(["Started n2"]));
    });

    test("the preferred node fails: it is fenced, DRBD is promoted on the peer, the group starts there in order and stays when the node returns", async () => {
        const { promoted } = await runningCluster(renderPacemakerCib(cibInput()));
        const failover = await simulate(promoted.out, ["-f", "n1"]);
        const actions = executed(failover);
        const at = (a: string) => {
            const i = actions.indexOf(a);
            if (i < 0) {
                throw new Error(`the failover did not ${a}; it did: ${actions.join(", ")}`);
            }
            return i;
        };
        // Fencing first, then the promotion, then the group member by member.
        const order = ["fence n1", `promote ${ids.drbd} n2`, ...MEMBERS.map(m => `start ${m} n2`)].map(at);
        expect(order).toEqual([...order].sort((a, b) => a - b));
        const deps = dependencies(failover.graph);
        expectWaitsFor(deps, `${ids.drbd}_promote_0@n2`, "stonith-n1-reboot@n1");
        expectStartChain(deps, "n2");
        const after = placement(failover);
        expect(after[ids.drbd]).toEqual(["Promoted n2"]);
        MEMBERS.forEach(m => expect(after[m]).toEqual(["Started n2"]));

        // n1 comes back and DRBD there is promotable again: no automatic failback (stickiness beats the preference).
        const back = await simulate(failover.out, ["-u", "n1"]);
        await setPromotionScores(back.out, ["n1"]);
        const settled = await simulate(back.out, []);
        const final = placement(settled);
        expect(final[ids.drbd].sort()).toEqual(["Promoted n2", "Unpromoted n1"]);
        MEMBERS.forEach(m => expect(final[m]).toEqual(["Started n2"]));
    });

    test("a CIB without the promote-then-start order fails the ordering check", async () => {
        const unordered = edited(renderPacemakerCib(cibInput()), /\n *<rsc_order [^\n]*/, "");
        const { promoted } = await runningCluster(unordered);
        expect(() => expectStartChain(dependencies(promoted.graph), "n1")).toThrow(
            `fs_start_0@n1 does not wait for ${ids.drbd}_promote_0@n1`,
        );
    });
});

// ---------------------------------------------------------------------------------------------
// Loading the CIB: the real step script, run by sh against a file-backed CIB (CIB_file).

describe("the CIB load step against a file-backed CIB (cibadmin)", () => {
    async function liveCib(validateWith: string): Promise<string> {
        const empty = await runTool("cibadmin", ["--empty"]);
        expect(empty.code).toBe(0);
        return tempFile("live.xml", empty.stdout.replace(/validate-with="[^"]*"/, `validate-with="${validateWith}"`));
    }

    async function loadStep(live: string, cib: string): Promise<RunResult> {
        const dir = path.dirname(live);
        const file = path.join(dir, "etc", "cib.xml");
        const loaded = path.join(dir, "state", "cib.loaded.xml");
        const body = script(cibLoadStep({ cib, file, loaded, waitSeconds: 2 }));
        return runTool("sh", [await tempFile("load.sh", body)], { env: { CIB_file: live } });
    }

    const epoch = (file: string) => parseXml(readFileSync(file, "utf8")).attrs.epoch;

    test("loads the configuration once (upgrading an old schema first), then leaves it alone", async () => {
        const live = await liveCib("pacemaker-3.0");
        const cib = renderPacemakerCib(cibInput());
        const first = await loadStep(live, cib);
        expect(first.code).toBe(0);
        expect(first.output).toMatch(/loaded the Pacemaker configuration/);
        const doc = parseXml(readFileSync(live, "utf8"));
        expect(Number(doc.attrs["validate-with"].replace("pacemaker-", ""))).toBeGreaterThanOrEqual(3.7);
        expect(
            findAll(doc, "primitive")
                .map(p => p.attrs.id)
                .sort(),
        ).toEqual([ids.drbd, "fence-n1", "fence-n2", ...MEMBERS].sort());
        const verified = await runTool("crm_verify", ["--xml-file", live, "-V"]);
        expect(describeRun(verified)).toMatch(/exited 0/);
        const before = epoch(live);

        const again = await loadStep(live, cib);
        expect(again.code).toBe(0);
        expect(again.output).toMatch(/Pacemaker configuration unchanged/);
        expect(epoch(live)).toBe(before);
    });

    test("refuses to replace the configuration while DRBD's fencing constraint is in place", async () => {
        const live = await liveCib("pacemaker-3.9");
        expect((await loadStep(live, renderPacemakerCib(cibInput()))).code).toBe(0);
        // What crm-fence-peer adds when DRBD loses its peer: the peer may not be promoted until it resyncs.
        const fenced = edited(
            readFileSync(live, "utf8"),
            /<constraints>/,
            `<constraints>\n      <rsc_location id="drbd-fence-by-handler-zabbix-${ids.drbdClone}" rsc="${ids.drbdClone}" role="Promoted" node="n2" score="-INFINITY"/>`,
        );
        await writeFile(live, fenced);
        const r = await loadStep(live, renderPacemakerCib(cibInput({ preferredNode: "n2" })));
        expect(r.code).not.toBe(0);
        expect(r.output).toMatch(/DRBD has fenced its peer/);
        expect(readFileSync(live, "utf8")).toContain("drbd-fence-by-handler-zabbix");
        expect(readFileSync(live, "utf8")).toContain('id="location-zabbix-prefers-n1"');
    });
});

// ---------------------------------------------------------------------------------------------
// corosync.conf

describe("corosync.conf as corosync reads it", () => {
    /** Loopback addresses: `corosync -t` insists that one of the nodes is this host. */
    async function rendered(keyFile: string): Promise<string> {
        return renderCorosyncConf({
            clusterName: "zabbix-east",
            keyFile,
            nodes: [
                { name: "n1", address: "127.0.0.1", nodeId: 1 },
                { name: "n2", address: "127.0.0.2", nodeId: 2 },
            ],
        });
    }

    const keyFile = () => tempFile("authkey", "k".repeat(256));

    const check = async (conf: string) => runTool("corosync", ["-t", "-c", await tempFile("corosync.conf", conf)]);

    // corosync -t prints only what the file's logging section lets through (to_stderr: no): its exit code is the verdict.
    test("corosync -t accepts the rendered file", async () => {
        const r = await check(await rendered(await keyFile()));
        expect(describeRun(r)).toMatch(/exited 0/);
    });

    test("corosync -t rejects two nodes with one node id", async () => {
        const broken = edited(await rendered(await keyFile()), /nodeid: 2/, "nodeid: 1");
        expect((await check(broken)).code).not.toBe(0);
        expect(() =>
            renderCorosyncConf({
                clusterName: "c",
                nodes: [
                    { name: "a", address: "10.0.0.1", nodeId: 1 },
                    { name: "b", address: "10.0.0.2", nodeId: 1 },
                ],
            }),
        ).toThrow("must be unique");
    });

    /** Runs corosync on loopback as node n1 and asks votequorum what it made of the file. */
    async function quorumFlags(conf: string): Promise<string> {
        const busy = await runTool("corosync-quorumtool", ["-s"], { timeoutMs: 10_000 });
        if (/Quorum information/.test(busy.output)) {
            throw new Error("a corosync is already running on this machine; these checks start their own");
        }
        const ringId = "/var/lib/corosync/ringid_1";
        const hadRingId = existsSync(ringId);
        const daemon = scratch.daemon("corosync", clusterTool("corosync"), [
            "-f",
            "-c",
            await tempFile("corosync.conf", conf),
        ]);
        try {
            const status = await waitFor(
                "corosync to answer corosync-quorumtool",
                async () => {
                    const r = await runTool("corosync-quorumtool", ["-s"], { timeoutMs: 10_000 });
                    return /Flags:/.test(r.stdout) ? r.stdout : undefined;
                },
                { timeoutMs: 30_000, detail: () => daemon.output() },
            );
            return status;
        } finally {
            await daemon.stop();
            if (!hadRingId) {
                await rm(ringId, { force: true });
            }
        }
    }

    test("a running corosync takes the pair as two_node: wait_for_all, and no quorum until the peer is seen", async () => {
        const status = await quorumFlags(await rendered(await keyFile()));
        expect(status).toMatch(/Flags:\s+2Node WaitForAll/);
        expect(status).toMatch(/Expected votes:\s+2/);
        expect(status).toMatch(/Quorate:\s+No/);
    });

    test("a misspelled two_node (which corosync -t lets through) shows in the running corosync: no 2Node", async () => {
        const misspelled = edited(await rendered(await keyFile()), /two_node: 1/, "two_nodes: 1");
        const status = await quorumFlags(misspelled);
        expect(status).not.toMatch(/2Node/);
    });
});
