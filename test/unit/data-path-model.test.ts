/**
 * What failures do to values sent through proxies: a proxy down is tried once per proxy, the group
 * moves its hosts after its failover delay, and values wait in the agent's or the proxy's buffer for
 * a bound that a manual repair must beat. Hand-built topologies: native HA across sites a and b.
 */
import {
    DEFAULT_TIMINGS,
    DataPathTopology,
    Topology,
    concreteFailures,
    evaluateAll,
    evaluateFailure,
    formatSeconds,
    proxyGroupFailover,
    scenarioMatrix,
} from "../../model";
import { proxyGroupFailoverSeconds } from "../../components/proxy";
import { DATA_SENDER_FREQUENCY_SECONDS } from "../../components/proxy/zabbixProxyConf";
import { CapturedPlan, ofType } from "../../tools/offline/capture";
import { toEngineConfig } from "../../tools/offline/environment";
import { comparePatterns } from "../../tools/preview/compare";
import { terminalTable } from "../../tools/preview/terminal";
import { dataPathConfig, dataPathConfigWith, withoutProxies } from "../support/dataPath";
import { planConfig } from "../support/plan";
import { nativeHa } from "./analysis-topologies";

const OFFLINE_HOURS = 24;
const AGENT_PERIOD = 86400;

/** A group over the given proxies (name and site), one agent per site, with the group's delay; all report to the base's only installation. */
function withDataPath(
    base: Topology,
    proxies: readonly [string, string][],
    delay = 60,
    agentSites: readonly string[] = ["a", "b"],
): Topology {
    const installation = base.instances[0].name;
    const dataPath: DataPathTopology = {
        proxyGroups: [{ name: "g", proxies: proxies.map(p => p[0]), failoverDelaySeconds: delay, minOnline: 1 }],
        proxies: proxies.map(([host, site]) => ({
            host,
            site,
            installation,
            group: "g",
            server: "zbx-1;zbx-2",
            offlineBufferHours: OFFLINE_HOURS,
        })),
        agents: agentSites.map(site => ({
            host: `app-${site}`,
            site,
            installation,
            group: "g",
            serverActive: proxies.map(p => p[0]).join(";"),
            persistentBufferPeriodSeconds: AGENT_PERIOD,
        })),
    };
    const hosts = [
        ...base.hosts,
        ...proxies.map(([host, site]) => ({ host, site, roles: ["proxy"], cloud: false })),
        ...agentSites.map(site => ({ host: `app-${site}`, site, roles: ["agent"], cloud: false })),
    ];
    return { ...base, hosts, dataPath };
}

const twoProxies = (delay?: number) =>
    withDataPath(
        nativeHa(["a", "b"]),
        [
            ["proxy-a", "a"],
            ["proxy-b", "b"],
        ],
        delay,
    );

describe("the proxy-down scenario", () => {
    test("is tried once per proxy, and only where the topology has a data path", () => {
        const where = (t: Topology) =>
            concreteFailures(t)
                .filter(f => f.scenario === "proxy-down")
                .map(f => [f.where, f.failure.proxiesDown]);
        expect(where(twoProxies())).toEqual([
            ["proxy-a", ["proxy-a"]],
            ["proxy-b", ["proxy-b"]],
        ]);
        expect(where(nativeHa(["a", "b"]))).toEqual([]);
        expect(scenarioMatrix(nativeHa(["a", "b"])).map(s => s.id)).not.toContain("proxy-down");
        expect(scenarioMatrix(twoProxies()).map(s => s.id)).toContain("proxy-down");
    });

    test("two proxies across sites: the group moves the hosts after its failover delay, monitoring goes on", () => {
        for (const delay of [60, 300]) {
            const outcome = evaluateFailure(twoProxies(delay), { proxiesDown: ["proxy-a"] });
            expect(outcome.monitoring).toBe("yes");
            expect(outcome.recovery).toBe("automatic");
            expect(outcome.recoverySeconds).toEqual({ min: delay, max: proxyGroupFailoverSeconds(delay) });
            expect(outcome.operatorCauses).toEqual([]);
            expect(outcome.risks).toContain(
                `values proxy proxy-a held in memory and had not sent (hybrid buffer, about DataSenderFrequency = ${DATA_SENDER_FREQUENCY_SECONDS} s)`,
            );
            expect(outcome.dataAtRisk).toMatch(
                /agents' persistent buffers \(PersistentBufferPeriod 24 h\) for .* none lost/,
            );
            // What the dead proxy held in memory is gone: no promise that every value arrives.
            expect(outcome.agentValuesKept).toBe(false);
        }
    });

    test("the group's only proxy: its agents' hosts stop being monitored until it is repaired, and the outcome says so", () => {
        const onlyOne = withDataPath(nativeHa(["a", "b"]), [["proxy-a", "a"]]);
        const outcome = evaluateFailure(onlyOne, { proxiesDown: ["proxy-a"] });
        expect(outcome.monitoring).toBe("degraded");
        expect(outcome.recovery).toBe("manual");
        expect(outcome.recoverySeconds).toBeNull();
        expect(outcome.operatorCauses.map(c => c.id)).toEqual(["proxy-group-lost"]);
        expect(outcome.dataAtRisk).toContain(
            "the hosts of proxy group g (app-a, app-b) are not monitored until the repair",
        );
        expect(outcome.dataAtRisk).toContain("until the repair, which must come within 24 h");
    });

    test("a topology without a data path gets the same outcome with or without the proxies' field", () => {
        const base = nativeHa(["a", "b"]);
        for (const failure of [{ sitesDark: ["a"] }, { hostsDown: ["zbx-1"] }, { interSiteCut: true }]) {
            expect(
                evaluateFailure({ ...base, dataPath: { proxyGroups: [], proxies: [], agents: [] } }, failure),
            ).toEqual(evaluateFailure(base, failure));
        }
    });
});

describe("the data path under the servers' failures", () => {
    test("the active server's site down: the other site's proxy buffers through the takeover; what the lost node and the cut proxy held is at risk", () => {
        // A managed database fails over by itself, so the servers recover automatically.
        const topology = withDataPath(nativeHa(["a", "b"], "managed"), [
            ["proxy-a", "a"],
            ["proxy-b", "b"],
        ]);
        const outcome = evaluateFailure(topology, { sitesDark: ["a"] }, DEFAULT_TIMINGS, undefined, ["zbx-1"]);
        const servers = evaluateFailure(
            nativeHa(["a", "b"], "managed"),
            { sitesDark: ["a"] },
            DEFAULT_TIMINGS,
            undefined,
            ["zbx-1"],
        );
        expect(outcome.monitoring).toBe("yes");
        expect(outcome.recovery).toBe("automatic");
        expect(outcome.risks).toContain(
            // The servers' recovery, and the proxy's next send once they are back.
            `values through proxy group g wait in the proxies' offline buffers (ProxyOfflineBuffer ${OFFLINE_HOURS} h) for ${formatSeconds({ min: servers.recoverySeconds!.min, max: servers.recoverySeconds!.max + DATA_SENDER_FREQUENCY_SECONDS })} and arrive late, none lost`,
        );
        expect(outcome.dataAtRisk).not.toMatch(/values older than/);
        // The lost node held values it had acknowledged; the cut site's proxy goes on taking its site's
        // agents' values after the group moved their hosts, and the server drops those at the heal.
        expect(outcome.risks).toEqual(
            expect.arrayContaining([
                expect.stringMatching(
                    /^values the active node of .* had acknowledged from its proxies and not yet written/,
                ),
                expect.stringMatching(/^values proxy proxy-a keeps taking from .* once its group has moved them/),
            ]),
        );
        expect(outcome.agentValuesKept).toBe(false);
        expect(servers.agentValuesKept).toBeUndefined();
        // The servers' own risks stay.
        for (const risk of servers.risks) {
            expect(outcome.risks).toContain(risk);
        }
    });

    test("a manual recovery: the values wait at the proxies, and the repair must beat their bound", () => {
        const topology = withDataPath(nativeHa(["a", "b"], "manual"), [
            ["proxy-a", "a"],
            ["proxy-b", "b"],
        ]);
        const outcome = evaluateFailure(topology, { dbDown: ["db-a"] });
        expect(outcome.recovery).toBe("manual");
        expect(outcome.recoverySeconds).toBeNull();
        expect(outcome.risks).toContain(
            `values through proxy group g wait in the proxies' offline buffers (ProxyOfflineBuffer ${OFFLINE_HOURS} h) until the repair, which must come within ${OFFLINE_HOURS} h or the older values are lost`,
        );
        // The active node lost its database: it switches to standby without writing what it took in.
        expect(outcome.dataAtRisk).toMatch(/loses its database for its failover delay/);
        expect(outcome.agentValuesKept).toBe(false);
        // The servers' own stop needs no second cause from the data path.
        expect(outcome.operatorCauses.map(c => c.id)).not.toContain("proxy-group-lost");
    });

    test("a node stopped on purpose writes what it acknowledged; one that dies drops it", () => {
        const topology = withDataPath(nativeHa(["a", "b"], "managed"), [
            ["proxy-a", "a"],
            ["proxy-b", "b"],
        ]);
        const stopped = evaluateFailure(topology, { serversStopped: ["zbx-1"] }, DEFAULT_TIMINGS, undefined, ["zbx-1"]);
        const killed = evaluateFailure(topology, { serversDown: ["zbx-1"] }, DEFAULT_TIMINGS, undefined, ["zbx-1"]);
        expect({ stopped: stopped.agentValuesKept, killed: killed.agentValuesKept }).toEqual({
            stopped: true,
            killed: false,
        });
        expect(stopped.dataAtRisk).not.toMatch(/had acknowledged/);
        expect(killed.dataAtRisk).toMatch(/a node that dies/);
        // The node that stays active and keeps its database drops nothing when the standby goes.
        const standby = evaluateFailure(topology, { serversDown: ["zbx-2"] }, DEFAULT_TIMINGS, undefined, ["zbx-1"]);
        expect(standby.agentValuesKept).toBe(true);
    });

    test("a wait longer than the bound loses the older values", () => {
        const topology = twoProxies(3600);
        const short = {
            ...topology,
            dataPath: {
                ...topology.dataPath!,
                agents: topology.dataPath!.agents.map(a => ({ ...a, persistentBufferPeriodSeconds: 600 })),
            },
        };
        const outcome = evaluateFailure(short, { proxiesDown: ["proxy-b"] });
        expect(outcome.dataAtRisk).toContain("values older than 600 s are lost");
        expect(outcome.agentValuesKept).toBe(false);
    });
});

describe("the planned data-path stack (a proxy per site in one group)", () => {
    let plan: CapturedPlan;
    beforeAll(async () => {
        plan = await planConfig(dataPathConfig());
        expect(plan.error).toBeUndefined();
    });
    const topology = () => (plan.outputs as { topology: Topology }).topology;

    test("its proxy-down recovers by the group's failover, and each proxy is tried", () => {
        const t = topology();
        const [group] = t.dataPath!.proxyGroups;
        const matrix = scenarioMatrix(t);
        const row = matrix.find(s => s.id === "proxy-down")!;
        expect(row.monitoring).toBe("yes");
        expect(row.recovery).toBe("automatic");
        expect(row.recoverySeconds).toEqual(proxyGroupFailover(group.failoverDelaySeconds));
        expect(
            concreteFailures(t)
                .filter(f => f.scenario === "proxy-down")
                .map(f => f.where),
        ).toEqual(t.dataPath!.proxies.map(p => p.host));
    });

    test("the buffers are still sized from the servers' recoveries alone: the data path does not feed back", () => {
        const t = topology();
        const { dataPath, ...servers } = t;
        expect(dataPath).toBeDefined();
        const longest = Math.ceil(
            Math.max(
                0,
                ...evaluateAll(servers)
                    .filter(e => e.outcome.recovery === "automatic")
                    .map(e => e.outcome.recoverySeconds!.max),
            ),
        );
        for (const proxy of ofType(plan, "zabbix-ha:proxy:ZabbixProxy")) {
            expect(Number(proxy.inputs.outageSeconds)).toBe(longest);
        }
    });
});

describe("the preview's matrix", () => {
    const env = (raw: Record<string, unknown>) => ({ file: "Pulumi.datapath.yaml", ...toEngineConfig(raw) });
    const row = (table: string) => table.split("\n").find(l => l.startsWith("one proxy down"));

    test("has a proxy-down row where the stack has proxies, and none where it has not", async () => {
        const report = await comparePatterns(env(dataPathConfig()));
        const zabbixHa = report.patterns.find(p => p.name === "zabbix-ha")!;
        const delay = zabbixHa.topology!.dataPath!.proxyGroups[0].failoverDelaySeconds;
        // The configured pattern's cell is the last: a group across both sites moves the hosts by itself.
        expect(row(terminalTable(report, 1000))).toMatch(
            new RegExp(`yes auto ${delay}-${proxyGroupFailoverSeconds(delay)}s$`),
        );
        const without = await comparePatterns(env(dataPathConfigWith(withoutProxies)));
        expect(row(terminalTable(without, 1000))).toBeUndefined();
    }, 60_000);
});
