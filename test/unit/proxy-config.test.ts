/**
 * The data path's config and files: the proxy and agent checks (each ConfigError with its path), the
 * proxies' and agents' sizing, and what their renderers refuse. The stack is proxy-stack.test.ts.
 */
import { ValidationOptions, validateStackConfig } from "../../components/config";
import {
    AGENT_PSK_FILE,
    PROXY_PSK_FILE,
    proxyGroupFailoverSeconds,
    renderZabbixAgent2Conf,
    renderZabbixProxyConf,
} from "../../components/proxy";
import { sizeAgent, sizeProxy } from "../../components/sizing";
import { dataPathConfig, dataPathConfigWith, withoutProxies } from "../support/dataPath";
import { HA, configProblems } from "../support/plan";

const PER_SITE: ValidationOptions = {
    ...HA,
    requirements: { ...HA.requirements, rolesInEverySite: ["db", "zabbix-server", "frontend", "lb"] },
};

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
        const raw = dataPathConfigWith(withoutProxies);
        expect(validateStackConfig(raw, HA).zabbix.proxyGroups).toEqual([]);
    });

    test("a proxy on a Zabbix server host is refused at its roles, saying Debian's packages conflict", () => {
        const raw = dataPathConfigWith(r => r.sites[0].hosts[0].roles.push("proxy"));
        expect(configProblems(raw, HA)).toEqual([
            expect.stringMatching(
                /^sites\[0\]\.hosts\[0\]\.roles: east-1 has both proxy and zabbix-server: Debian's zabbix-proxy packages conflict/,
            ),
        ]);
    });

    test("proxies on 6.0 are refused at zabbix.version: 6.0 has no proxy groups", () => {
        const raw = dataPathConfigWith(r => {
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
        const raw = dataPathConfigWith(
            r => (r.zabbix.proxyGroups = [{ name: "g", proxies: ["east-proxy", "west-proxy"], minOnline: 3 }]),
        );
        expect(configProblems(raw, HA)).toEqual([
            "zabbix.proxyGroups[0].minOnline: 3 is more than the group's 2 proxies: the group could never be online",
        ]);
    });

    test("a group in one site is refused at its proxies, saying a site loss would leave it no proxy", () => {
        const raw = dataPathConfigWith(r => {
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
        expect(configProblems(dataPathConfigWith(bothProxiesInEast), HA)).toEqual([
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
        const raw = dataPathConfigWith(
            r => (r.zabbix.proxyGroups = [{ name: "g", proxies: ["east-proxy", "west-proxy"] }]),
        );
        expect(configProblems(raw, PER_SITE)).toEqual([
            expect.stringMatching(
                /^zabbix\.proxyGroups\[0\]\.proxies: group g spans sites east, west, but this pattern runs one Zabbix per site/,
            ),
        ]);
    });

    test("an unknown proxy, a proxy in two groups and a bad delay are each refused at their own path", () => {
        const raw = dataPathConfigWith(
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
        const left = dataPathConfigWith(r => {
            r.sites[0].hosts.push({ name: "east-proxy2", address: "198.18.1.22", roles: ["proxy"], os: "debian13" });
            r.zabbix.proxyGroups = [{ name: "g", proxies: ["east-proxy", "west-proxy"] }];
        });
        expect(configProblems(left, HA)).toEqual([
            expect.stringMatching(/^zabbix\.proxyGroups: east-proxy2 is in no group/),
        ]);
        const none = dataPathConfigWith(r => {
            withoutProxies(r);
            r.zabbix.proxyGroups = [{ name: "g", proxies: ["east-proxy"] }];
        });
        expect(configProblems(none, HA)).toEqual(["zabbix.proxyGroups: is set, but no host has the proxy role"]);
    });

    test("an agent whose site has proxies of two groups is refused at its roles", () => {
        const raw = dataPathConfigWith(r => {
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

    test("a proxy's failover bound is the group's delay, the proxy's next config sync and the agent's retry a minute after its failed request", () => {
        expect(proxyGroupFailoverSeconds(60)).toBe(130);
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
            sequenceFile: "/var/lib/zabbix-agent2/sequence",
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
