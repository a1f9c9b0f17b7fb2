/**
 * The data path's rules: a proxy group survives a site's loss, and an agent names its group's
 * proxies once, separated by ";". On hand-built facts (each case breaking one thing) and on the
 * plan of a two-site config with a proxy and a monitored host per site.
 */
import { ZABBIX_AGENT, ZABBIX_PROXY } from "../../components/facts";
import { ResourceInput } from "../../policies/harness";
import { agentsUseTheirGroup, proxyGroupsSpanSites } from "../../policies/rules";
import { dataPathConfig } from "../support/dataPath";
import { planConfig } from "../support/plan";
import { at, servers, violations } from "./cases";

/** A proxy of `group` reporting to the two-site cluster of `servers()`. */
const proxy = (host: string, site: string, address: string, group = "all-sites"): ResourceInput => ({
    type: ZABBIX_PROXY.token,
    name: `${host}-proxy`,
    props: {
        ...at(host, site, address),
        installation: "zabbix",
        server: "198.18.1.21;198.18.2.21",
        group,
        groupFailoverDelaySeconds: 60,
        groupMinOnline: 1,
        sizing: {},
        outageSeconds: 30,
        tls: "psk",
    },
});

const agent = (host: string, site: string, address: string, serverActive: string, group?: string): ResourceInput => ({
    type: ZABBIX_AGENT.token,
    name: `${host}-agent`,
    props: {
        ...at(host, site, address),
        installation: "zabbix",
        serverActive,
        ...(group ? { group } : {}),
        sizing: {},
        outageSeconds: 75,
        tls: "psk",
    },
});

const PROXIES = [proxy("prx-a", "a", "198.18.1.31"), proxy("prx-b", "b", "198.18.2.31")];

describe("proxy-group-spans-sites", () => {
    test("a group with a proxy in each of its servers' sites passes", async () => {
        expect(await violations(proxyGroupsSpanSites, [servers(), ...PROXIES])).toEqual([]);
    });

    test("a group in one site while its servers span two is mandatory to fix, naming both", async () => {
        const found = await violations(proxyGroupsSpanSites, [
            servers(),
            proxy("prx-a", "a", "198.18.1.31"),
            proxy("prx-a2", "a", "198.18.1.32"),
        ]);
        expect(found).toEqual([
            expect.objectContaining({
                level: "mandatory",
                message: expect.stringMatching(
                    /^Proxy group "all-sites" has proxies in a only, while its servers span a, b/,
                ),
            }),
        ]);
    });

    test("an installation in one site (one per site) asks nothing of its group", async () => {
        const oneSite = servers({
            nodes: [{ ...at("zbx-a", "a", "198.18.1.21"), dbHost: "198.18.1.41", dbPort: 5433 }],
            failover: "none",
        });
        expect(await violations(proxyGroupsSpanSites, [oneSite, proxy("prx-a", "a", "198.18.1.31")])).toEqual([]);
    });
});

describe("agent-server-active-proxy-group", () => {
    test('an agent naming its group\'s proxies with ";" passes; one reporting to the servers is not asked', async () => {
        expect(
            await violations(agentsUseTheirGroup, [
                ...PROXIES,
                agent("app-a", "a", "198.18.1.51", "198.18.1.31:10051;198.18.2.31:10051", "all-sites"),
                agent("app-b", "b", "198.18.2.51", "198.18.1.21;198.18.2.21"),
            ]),
        ).toEqual([]);
    });

    test.each([
        ['","', "198.18.1.31,198.18.2.31", /"," between entries sends every value to each of them/],
        [
            "a proxy left out",
            "198.18.1.31",
            /it names 198\.18\.1\.31, the group's proxies are 198\.18\.1\.31, 198\.18\.2\.31/,
        ],
        ["a server instead", "198.18.1.31;198.18.1.21", /it names 198\.18\.1\.21, 198\.18\.1\.31,/],
    ])("%s is mandatory to fix, naming the agent and its list", async (_what, serverActive, why) => {
        const found = await violations(agentsUseTheirGroup, [
            ...PROXIES,
            agent("app-a", "a", "198.18.1.51", serverActive, "all-sites"),
        ]);
        expect(found).toEqual([
            expect.objectContaining({
                level: "mandatory",
                message: expect.stringMatching(
                    new RegExp(`^Agent app-a .*ServerActive=${serverActive.replace(/\./g, "\\.")}: .*${why.source}`),
                ),
            }),
        ]);
    });
});

describe("the data path's rules on a planned stack", () => {
    test("a proxy and an agent per site, one group: both rules pass", async () => {
        const plan = await planConfig(dataPathConfig());
        const resources = plan.resources
            .filter(r => r.type !== "pulumi:pulumi:Stack")
            .map(r => ({ type: r.type, name: r.name, props: r.inputs }));
        expect(resources.filter(r => r.type === ZABBIX_AGENT.token)).toHaveLength(2);
        expect(await violations(proxyGroupsSpanSites, resources)).toEqual([]);
        expect(await violations(agentsUseTheirGroup, resources)).toEqual([]);
    }, 60_000);
});
