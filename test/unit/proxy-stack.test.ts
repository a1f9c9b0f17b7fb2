/**
 * What the stack builds for the data path under mocks: a proxy per proxy host and an agent per
 * monitored host, their PSKs and steps, from the topology of any pattern; their firewall flows, the
 * policy pack on them, and the preview's lines.
 */
import { HostFirewallFacts, RESOURCE_TYPES, ZABBIX_AGENT, ZABBIX_PROXY, factProblems } from "../../components/facts";
import { PSK_BYTES, proxyGroupFailoverSeconds } from "../../components/proxy";
import { Topology } from "../../model";
import { CapturedPlan, ofType, transitiveDependencies } from "../../tools/offline/capture";
import { planViolations } from "../../tools/preview/compare";
import { summarizePlan } from "../../tools/preview/summary";
import { DATA_PATH_HOSTS, dataPathConfig, dataPathConfigWith, withoutProxies } from "../support/dataPath";
import { byName, commands, planConfig, scriptOf, target } from "../support/plan";

describe("the stack with a proxy and a monitored host per site, under mocks", () => {
    let plan: CapturedPlan;
    beforeAll(async () => {
        plan = await planConfig(dataPathConfig());
        expect(plan.error).toBeUndefined();
    });
    const topology = () => (plan.outputs as { topology: Topology }).topology;

    test("one proxy per proxy host and one agent per monitored host, in the topology with their group", () => {
        expect(
            ofType(plan, "zabbix-ha:proxy:ZabbixProxy")
                .map(r => r.name)
                .sort(),
        ).toEqual(["east-proxy-proxy", "west-proxy-proxy"]);
        expect(
            ofType(plan, "zabbix-ha:proxy:ZabbixAgent")
                .map(r => r.name)
                .sort(),
        ).toEqual(["east-app-agent", "west-app-agent"]);
        // The buffer bounds are the figures each component declared in its sizing.
        const sized = (name: string, key: string) =>
            Number((byName(plan, name).inputs.sizing as Record<string, number>)[key]);
        expect(topology().dataPath).toEqual({
            proxyGroups: [
                { name: "all-sites", proxies: ["east-proxy", "west-proxy"], failoverDelaySeconds: 60, minOnline: 1 },
            ],
            proxies: [
                {
                    host: "east-proxy",
                    site: "east",
                    installation: "zabbix",
                    group: "all-sites",
                    server: "198.18.1.10:10051;198.18.2.10:10051",
                    offlineBufferHours: sized("east-proxy-proxy", "offlineBufferHours"),
                },
                {
                    host: "west-proxy",
                    site: "west",
                    installation: "zabbix",
                    group: "all-sites",
                    server: "198.18.1.10:10051;198.18.2.10:10051",
                    offlineBufferHours: sized("west-proxy-proxy", "offlineBufferHours"),
                },
            ],
            agents: [
                {
                    host: "east-app",
                    site: "east",
                    installation: "zabbix",
                    group: "all-sites",
                    serverActive: "198.18.1.20:10051;198.18.2.20:10051",
                    persistentBufferPeriodSeconds: sized("east-app-agent", "persistentBufferPeriodSeconds"),
                },
                {
                    host: "west-app",
                    site: "west",
                    installation: "zabbix",
                    group: "all-sites",
                    serverActive: "198.18.1.20:10051;198.18.2.20:10051",
                    persistentBufferPeriodSeconds: sized("west-app-agent", "persistentBufferPeriodSeconds"),
                },
            ],
        });
    });

    test("every proxy and agent declares facts its definition's schema accepts", () => {
        for (const definition of [ZABBIX_PROXY, ZABBIX_AGENT]) {
            const declared = ofType(plan, definition.token);
            expect(declared).toHaveLength(2);
            for (const r of declared) {
                expect({ name: r.name, problems: factProblems({ type: r.type, props: r.inputs }, definition) }).toEqual(
                    {
                        name: r.name,
                        problems: [],
                    },
                );
            }
        }
    });

    test("the buffers are sized for the longest automatic recovery the model predicts for this topology", () => {
        const [proxy] = ofType(plan, "zabbix-ha:proxy:ZabbixProxy");
        const [agent] = ofType(plan, "zabbix-ha:proxy:ZabbixAgent");
        const outage = Number(proxy.inputs.outageSeconds);
        expect(outage).toBeGreaterThan(0);
        // Through a group of a minute's delay the agent waits at least for the group's failover.
        expect(Number(agent.inputs.outageSeconds)).toBe(Math.max(outage, proxyGroupFailoverSeconds(60)));
    });

    test("each proxy and agent gets its own 32-byte PSK from @pulumi/random, on stdin only", () => {
        const psks = ofType(plan, RESOURCE_TYPES.randomBytes);
        expect(psks.map(p => [p.name, p.inputs.length]).sort()).toEqual(
            ["east-app-agent-psk", "east-proxy-proxy-psk", "west-app-agent-psk", "west-proxy-proxy-psk"].map(n => [
                n,
                PSK_BYTES,
            ]),
        );
        const keys = psks.map(p => String(p.outputs.hex));
        expect(new Set(keys).size).toBe(4);
        for (const name of ["east-proxy-proxy-config", "east-app-agent-config"]) {
            const step = byName(plan, name);
            expect(step.secretInputs).toContain("stdin");
            expect(keys).toContain(String(step.inputs.stdin).trim());
            expect(keys.some(k => String(step.inputs.create).includes(k))).toBe(false);
        }
    });

    test("the proxy and agent steps run on their own hosts, after their packages", () => {
        const [east] = [DATA_PATH_HOSTS.east];
        expect(target(byName(plan, "east-proxy-proxy-config"))).toBe(east.proxy[1]);
        expect(target(byName(plan, "east-app-agent-config"))).toBe(east.agent[1]);
        for (const [step, host] of [
            ["east-proxy-proxy-config", "east-proxy"],
            ["east-app-agent-config", "east-app"],
        ]) {
            const deps = transitiveDependencies(plan, byName(plan, step).id);
            expect({ step, afterPackages: deps.has(byName(plan, `east-${host}-packages`).id) }).toEqual({
                step,
                afterPackages: true,
            });
        }
        expect(scriptOf(byName(plan, "east-proxy-proxy-config"))).toMatch(/systemctl restart zabbix-proxy/);
        expect(scriptOf(byName(plan, "east-east-proxy-packages"))).toMatch(/for zha_pkg in .*zabbix-proxy-sqlite3/);
        expect(scriptOf(byName(plan, "east-east-app-packages"))).toMatch(/for zha_pkg in .*zabbix-agent2/);
    });

    test("removing the role stops the service for good and removes its PSK", () => {
        expect(scriptOf(byName(plan, "east-proxy-proxy-config"), "delete")).toMatch(
            /systemctl disable --now zabbix-proxy/,
        );
        expect(scriptOf(byName(plan, "east-app-agent-config"), "delete")).toMatch(
            /rm -f '\/etc\/zabbix\/zabbix_agent2\.psk'/,
        );
    });
});

describe("proxies follow the topology of any pattern, not its name", () => {
    test("where each site runs its own Zabbix, a site's proxy reports to its own site's server", async () => {
        const plan = await planConfig({ ...dataPathConfig(), pattern: "standalone" });
        expect(plan.error).toBeUndefined();
        const dataPath = (plan.outputs as { topology: Topology }).topology.dataPath!;
        expect(dataPath.proxies.map(p => [p.host, p.installation, p.group, p.server])).toEqual([
            ["east-proxy", "east", "east-proxies", "198.18.1.10:10051"],
            ["west-proxy", "west", "west-proxies", "198.18.2.10:10051"],
        ]);
        expect(dataPath.agents.map(a => [a.host, a.installation, a.serverActive])).toEqual([
            ["east-app", "east", "198.18.1.20:10051"],
            ["west-app", "west", "198.18.2.20:10051"],
        ]);
    });

    test("agents without proxies report to the server cluster's nodes as one cluster", async () => {
        const plan = await planConfig(dataPathConfigWith(withoutProxies));
        expect(plan.error).toBeUndefined();
        const dataPath = (plan.outputs as { topology: Topology }).topology.dataPath!;
        expect(dataPath.proxies).toEqual([]);
        expect(dataPath.agents.map(a => [a.host, a.group, a.serverActive])).toEqual([
            ["east-app", undefined, "198.18.1.10:10051;198.18.2.10:10051"],
            ["west-app", undefined, "198.18.1.10:10051;198.18.2.10:10051"],
        ]);
        expect(commands(plan).some(c => c.name.endsWith("-proxy-config"))).toBe(false);
    });
});

test("the policy pack finds nothing against the proxies, the agents and their keys", async () => {
    const plan = await planConfig(dataPathConfig());
    const components = plan.resources.filter(r => r.type.startsWith("zabbix-ha:proxy:"));
    const ids = new Set(components.map(c => c.id));
    const names = new Set([
        ...components.map(c => c.name),
        ...plan.resources.filter(r => r.parent !== undefined && ids.has(r.parent)).map(r => r.name),
    ]);
    // Each proxy and agent: the component, its PSK and its step.
    expect(names.size).toBe(12);
    const against = (await planViolations(plan)).filter(v => [...names].some(n => v.resource?.includes(n)));
    expect(against).toEqual([]);
});

describe("the host firewall follows the data path", () => {
    test("a proxy admits its group's agents and the monitored network; each server node admits the proxies", async () => {
        const plan = await planConfig(
            dataPathConfigWith(r => (r.firewall = { enabled: true, monitoredNetwork: ["198.18.50.0/24"] })),
        );
        expect(plan.error).toBeUndefined();
        const admits = (host: string) =>
            (
                ofType(plan, "zabbix-ha:firewall:HostFirewall")
                    .map(r => r.inputs as unknown as HostFirewallFacts)
                    .find(f => f.host === host)?.admits ?? []
            ).find(a => a.port === 10051);
        expect(admits("east-proxy")).toEqual({
            protocol: "tcp",
            port: 10051,
            services: ["zabbix-proxy"],
            sources: ["198.18.1.30", "198.18.2.30", "198.18.50.0/24"],
        });
        expect(admits("east-1")?.sources).toEqual(expect.arrayContaining(["198.18.1.20", "198.18.2.20"]));
        // A monitored host runs agent 2 with active checks only: nothing of Zabbix listens there.
        expect(admits("east-app")).toBeUndefined();
    });
});

test("the preview's plan lists the proxy groups, their proxies and where each agent sends", async () => {
    const plan = await planConfig(dataPathConfig());
    const text = summarizePlan(plan);
    expect(text).toContain(
        "Data path:\n  proxy group all-sites (failover 60 s, 1 online): east-proxy (east), west-proxy (west)\n" +
            "  agent east-app (east) -> group all-sites: 198.18.1.20:10051;198.18.2.20:10051",
    );
    expect(text).toMatch(/zabbix-ha:proxy:ZabbixProxy\s+east-proxy-proxy\s+2 resources/);
});
