/**
 * The data path's layer: the proxy and agent checks of the config (each ConfigError with its path),
 * the proxies' and agents' sizing, their renderers, and what the stack builds from them under mocks.
 */
import { ValidationOptions, validateStackConfig } from "../../components/config";
import { HostFirewallFacts, RESOURCE_TYPES } from "../../components/facts";
import {
    AGENT_PSK_FILE,
    PROXY_PSK_FILE,
    PSK_BYTES,
    proxyGroupFailoverSeconds,
    renderZabbixAgent2Conf,
    renderZabbixProxyConf,
} from "../../components/proxy";
import { sizeAgent, sizeProxy } from "../../components/sizing";
import { Topology } from "../../model";
import { CapturedPlan, ofType, transitiveDependencies } from "../../tools/offline/capture";
import { summarizePlan } from "../../tools/preview/summary";
import { DATA_PATH_HOSTS, dataPathConfig } from "../support/dataPath";
import { HA, byName, commands, configProblems, planConfig, scriptOf, target } from "../support/plan";

const PER_SITE: ValidationOptions = {
    ...HA,
    requirements: { ...HA.requirements, rolesInEverySite: ["db", "zabbix-server", "frontend", "lb"] },
};

/** dataPathConfig with `change` applied to it. */
function changed(change: (raw: Record<string, any>) => void): Record<string, any> {
    const raw = dataPathConfig();
    change(raw);
    return raw;
}

/** Moves west's proxy host to east (its address into east's network). */
function bothProxiesInEast(raw: Record<string, any>): void {
    const proxy = raw.sites[1].hosts.splice(1, 1)[0];
    raw.sites[0].hosts.push({ ...proxy, address: "198.18.1.21" });
}

describe("the proxy and agent checks of the config", () => {
    test("a valid config gets one group of both sites' proxies, a minute's failover delay and one online", () => {
        const config = validateStackConfig(dataPathConfig(), HA);
        expect(config.zabbix.proxyGroups).toEqual([
            { name: "all-sites", proxies: ["east-proxy", "west-proxy"], failoverDelaySeconds: 60, minOnline: 1 },
        ]);
    });

    test("without proxy hosts there is no group", () => {
        const raw = changed(r =>
            r.sites.forEach((s: any) => (s.hosts = s.hosts.filter((h: any) => h.roles[0] !== "proxy"))),
        );
        expect(validateStackConfig(raw, HA).zabbix.proxyGroups).toEqual([]);
    });

    test("a proxy on a Zabbix server host is refused at its roles, saying Debian's packages conflict", () => {
        const raw = changed(r => r.sites[0].hosts[0].roles.push("proxy"));
        expect(configProblems(raw, HA)).toEqual([
            expect.stringMatching(
                /^sites\[0\]\.hosts\[0\]\.roles: east-1 has both proxy and zabbix-server: Debian's zabbix-proxy packages conflict/,
            ),
        ]);
    });

    test("proxies on 6.0 are refused at zabbix.version: 6.0 has no proxy groups", () => {
        const raw = changed(r => {
            r.zabbix = { version: "6.0", packageSource: "distribution" };
            r.sites.forEach((s: any) => s.hosts.forEach((h: any) => (h.os = "debian12")));
        });
        expect(configProblems(raw, HA)).toEqual([
            expect.stringMatching(
                /^zabbix\.version: 6\.0 has no proxy groups, and east-proxy, west-proxy carry the proxy role/,
            ),
        ]);
    });

    test("minOnline above the group's size is refused at its path", () => {
        const raw = changed(
            r => (r.zabbix.proxyGroups = [{ name: "g", proxies: ["east-proxy", "west-proxy"], minOnline: 3 }]),
        );
        expect(configProblems(raw, HA)).toEqual([
            "zabbix.proxyGroups[0].minOnline: 3 is more than the group's 2 proxies: the group could never be online",
        ]);
    });

    test("a group in one site is refused at its proxies, saying a site loss would leave it no proxy", () => {
        const raw = changed(r => {
            bothProxiesInEast(r);
            r.zabbix.proxyGroups = [{ name: "g", proxies: ["east-proxy", "west-proxy"] }];
        });
        expect(configProblems(raw, HA)).toEqual([
            expect.stringMatching(
                /^zabbix\.proxyGroups\[0\]\.proxies: group g has proxies in east only: losing that site/,
            ),
        ]);
    });

    test("the default group in one site is refused at zabbix.proxyGroups", () => {
        expect(configProblems(changed(bothProxiesInEast), HA)).toEqual([
            expect.stringMatching(/^zabbix\.proxyGroups: the default group all-sites has proxies in east only/),
        ]);
    });

    test("where each site runs its own Zabbix, groups are per site by default and a group across sites is refused", () => {
        expect(
            validateStackConfig(dataPathConfig(), PER_SITE).zabbix.proxyGroups.map(g => [g.name, g.proxies]),
        ).toEqual([
            ["east-proxies", ["east-proxy"]],
            ["west-proxies", ["west-proxy"]],
        ]);
        const raw = changed(r => (r.zabbix.proxyGroups = [{ name: "g", proxies: ["east-proxy", "west-proxy"] }]));
        expect(configProblems(raw, PER_SITE)).toEqual([
            expect.stringMatching(
                /^zabbix\.proxyGroups\[0\]\.proxies: group g spans sites east, west, but this pattern runs one Zabbix per site/,
            ),
        ]);
    });

    test("an unknown proxy, a proxy in two groups and a bad delay are each refused at their own path", () => {
        const raw = changed(
            r =>
                (r.zabbix.proxyGroups = [
                    { name: "a", proxies: ["east-proxy", "west-proxy", "east-1"], failoverDelay: "5s" },
                    { name: "b", proxies: ["west-proxy"] },
                ]),
        );
        expect(configProblems(raw, HA)).toEqual([
            expect.stringMatching(
                /^zabbix\.proxyGroups\[0\]\.proxies\[2\]: "east-1" is not a host with the proxy role/,
            ),
            expect.stringMatching(/^zabbix\.proxyGroups\[0\]\.failoverDelay: "5s" is not a duration in Zabbix's range/),
            expect.stringMatching(
                /^zabbix\.proxyGroups\[1\]\.proxies\[0\]: west-proxy is already in zabbix\.proxyGroups\[0\]\.proxies/,
            ),
        ]);
    });

    test("a proxy in no group, and groups without proxy hosts, are refused at zabbix.proxyGroups", () => {
        const left = changed(r => {
            r.sites[0].hosts.push({ name: "east-proxy2", address: "198.18.1.22", roles: ["proxy"], os: "debian13" });
            r.zabbix.proxyGroups = [{ name: "g", proxies: ["east-proxy", "west-proxy"] }];
        });
        expect(configProblems(left, HA)).toEqual([
            expect.stringMatching(/^zabbix\.proxyGroups: east-proxy2 is in no group/),
        ]);
        const none = changed(r => {
            r.sites.forEach((s: any) => (s.hosts = s.hosts.filter((h: any) => h.roles[0] !== "proxy")));
            r.zabbix.proxyGroups = [{ name: "g", proxies: ["east-proxy"] }];
        });
        expect(configProblems(none, HA)).toEqual(["zabbix.proxyGroups: is set, but no host has the proxy role"]);
    });

    test("an agent whose site has proxies of two groups is refused at its roles", () => {
        const raw = changed(r => {
            r.sites[0].hosts.push({ name: "east-proxy2", address: "198.18.1.22", roles: ["proxy"], os: "debian13" });
            r.sites[1].hosts.push({ name: "west-proxy2", address: "198.18.2.22", roles: ["proxy"], os: "debian13" });
            r.zabbix.proxyGroups = [
                { name: "a", proxies: ["east-proxy", "west-proxy"] },
                { name: "b", proxies: ["east-proxy2", "west-proxy2"] },
            ];
        });
        expect(configProblems(raw, HA)).toEqual([
            expect.stringMatching(/^sites\[0\]\.hosts\[2\]\.roles: the agent on east-app could report through a or b/),
            expect.stringMatching(/^sites\[1\]\.hosts\[2\]\.roles: the agent on west-app could report through a or b/),
        ]);
    });
});

describe("the proxies' and agents' sizing", () => {
    const load = { monitoredHosts: 1000, items: 100_000, updateIntervalSeconds: 60 };

    test("a proxy of a group of two carries the whole group's share once the other is lost", () => {
        const sizing = sizeProxy(load, { groupProxies: 2, allProxies: 2 }, 120);
        // 100,000 / 60 = 1,666.67 values/s; 120 s of them at 256 B = 51.2 MB, rounded up to 64 MiB.
        expect(sizing).toEqual({
            nvps: 1666.67,
            memoryBufferMiB: 64,
            offlineBufferHours: 24,
            offlineBufferDiskMiB: 20600,
        });
    });

    test("more proxies share the load, down to Debian's 16 MiB; a long outage lengthens the offline buffer", () => {
        expect(sizeProxy(load, { groupProxies: 4, allProxies: 8 }, 60)).toMatchObject({
            nvps: 277.78,
            memoryBufferMiB: 16,
        });
        expect(sizeProxy(load, { groupProxies: 2, allProxies: 2 }, 3 * 86400).offlineBufferHours).toBe(144);
        expect(sizeProxy({ ...load, items: 1e9 }, { groupProxies: 2, allProxies: 2 }, 3600).memoryBufferMiB).toBe(2048);
    });

    test("an agent's buffers outlast twice the outage, at least a day and agent 2's default buffer", () => {
        expect(sizeAgent(load, 85)).toEqual({
            valuesPerSecond: 1.667,
            bufferSize: 1000,
            persistentBufferPeriodSeconds: 86400,
        });
        expect(sizeAgent({ ...load, monitoredHosts: 10 }, 100_000)).toEqual({
            valuesPerSecond: 166.667,
            bufferSize: 65535,
            persistentBufferPeriodSeconds: 200_000,
        });
    });

    test("a proxy's failover bound is the group's delay, the proxy's next config sync and the agent's next refresh", () => {
        expect(proxyGroupFailoverSeconds(60)).toBe(75);
    });
});

describe("the renderers refuse what would lose or duplicate data", () => {
    const sizing = { nvps: 1, memoryBufferMiB: 16, offlineBufferHours: 24, offlineBufferDiskMiB: 1 };
    const proxy = {
        hostname: "p",
        server: "198.18.1.10:10051;198.18.2.10:10051",
        listenIp: "198.18.1.20",
        listenPort: 10051,
        dbPath: "/var/lib/zabbix-proxy/zabbix_proxy.db",
        logFile: "/var/log/zabbix-proxy/zabbix_proxy.log",
        pidFile: "/run/zabbix/zabbix_proxy.pid",
        socketDir: "/run/zabbix",
        sizing,
        psk: { identity: "zabbix-ha-proxy-p", file: PROXY_PSK_FILE },
    };

    test("a relative DBName and a server list with ',' are refused", () => {
        expect(() => renderZabbixProxyConf({ ...proxy, dbPath: "zabbix_proxy" })).toThrow(/absolute path/);
        expect(() => renderZabbixProxyConf({ ...proxy, server: "a:10051,b:10051" })).toThrow(/one cluster/);
    });

    test("ServerActive with ',' is refused: each proxy would be sent every value", () => {
        const agent = {
            version: "7.0" as const,
            hostname: "a",
            serverActive: "198.18.1.20:10051,198.18.2.20:10051",
            logFile: "/var/log/zabbix/zabbix_agent2.log",
            pidFile: "/run/zabbix/zabbix_agent2.pid",
            controlSocket: "/run/zabbix/agent.sock",
            persistentBufferFile: "/var/lib/zabbix-agent2/buffer.db",
            pluginInclude: "/etc/zabbix/zabbix_agent2.d/plugins.d/*.conf",
            sizing: { valuesPerSecond: 1, bufferSize: 1000, persistentBufferPeriodSeconds: 86400 },
            psk: { identity: "zabbix-ha-agent-a", file: AGENT_PSK_FILE },
        };
        expect(() => renderZabbixAgent2Conf(agent)).toThrow(/send every value twice/);
        expect(renderZabbixAgent2Conf({ ...agent, serverActive: "198.18.1.20:10051;198.18.2.20:10051" })).toMatch(
            /^ServerActive=198\.18\.1\.20:10051;198\.18\.2\.20:10051\n#.*\nServer=\nRefreshActiveChecks=5$/m,
        );
        // 6.0's agent 2 refuses less than a minute (test/real/agent2-debian12.test.ts).
        expect(renderZabbixAgent2Conf({ ...agent, version: "6.0", serverActive: "198.18.1.10:10051" })).toMatch(
            /^RefreshActiveChecks=60$/m,
        );
    });
});

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
        expect(topology().dataPath).toEqual({
            proxyGroups: [
                { name: "all-sites", proxies: ["east-proxy", "west-proxy"], failoverDelaySeconds: 60, minOnline: 1 },
            ],
            proxies: [
                { host: "east-proxy", site: "east", group: "all-sites", server: "198.18.1.10:10051;198.18.2.10:10051" },
                { host: "west-proxy", site: "west", group: "all-sites", server: "198.18.1.10:10051;198.18.2.10:10051" },
            ],
            agents: [
                {
                    host: "east-app",
                    site: "east",
                    group: "all-sites",
                    serverActive: "198.18.1.20:10051;198.18.2.20:10051",
                },
                {
                    host: "west-app",
                    site: "west",
                    group: "all-sites",
                    serverActive: "198.18.1.20:10051;198.18.2.20:10051",
                },
            ],
        });
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
        expect(dataPath.proxies.map(p => [p.host, p.group, p.server])).toEqual([
            ["east-proxy", "east-proxies", "198.18.1.10:10051"],
            ["west-proxy", "west-proxies", "198.18.2.10:10051"],
        ]);
        expect(dataPath.agents.map(a => [a.host, a.serverActive])).toEqual([
            ["east-app", "198.18.1.20:10051"],
            ["west-app", "198.18.2.20:10051"],
        ]);
    });

    test("agents without proxies report to the server cluster's nodes as one cluster", async () => {
        const plan = await planConfig(
            changed(r => r.sites.forEach((s: any) => (s.hosts = s.hosts.filter((h: any) => h.roles[0] !== "proxy")))),
        );
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

describe("the host firewall follows the data path", () => {
    test("a proxy admits its group's agents and the monitored network; each server node admits the proxies", async () => {
        const plan = await planConfig(
            changed(r => (r.firewall = { enabled: true, monitoredNetwork: ["198.18.50.0/24"] })),
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
