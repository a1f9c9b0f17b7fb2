/**
 * The policy pack against the library's own designs (prod and dev break no rule they should keep)
 * and the placement rules: HA nodes across sites, VIPs within L2, replicas away from their primary,
 * each site's load balancer as the DB path, and a witness for automatic failover.
 */
import * as path from "path";
import { POLICIES } from "../../policies/rules";
import {
    dbFailoverWitness,
    drbdDedicatedMetaDisk,
    haNodesSpanSites,
    hostFirewallEnabled,
    noPlaintextSecrets,
    noVipAcrossSites,
    pacemakerFencing,
    replicasInOtherSites,
    siteLoadBalancers,
} from "../../policies/rules";
import { HOST, LOAD_BALANCER, PATRONI } from "../../components/facts";
import { ResourceInput } from "../../policies/harness";
import { ROOT } from "../support/plan";
import {
    PROD,
    Policy,
    at,
    command,
    covered,
    dbAt,
    fixture,
    frontend,
    host,
    loadBalancer,
    pair,
    postgres,
    resourcesOf,
    servers,
    violations,
} from "./cases";

describe("the library's own designs pass every rule they should", () => {
    /** Each of `policies` finds nothing in `resources`; a failure names the policy and what it found. */
    async function expectNoViolations(resources: ResourceInput[], policies: readonly Policy[]): Promise<void> {
        for (const policy of policies) {
            expect({ policy: policy.name, found: await violations(policy, resources) }).toEqual({
                policy: policy.name,
                found: [],
            });
        }
    }

    test("prod as pattern 5 breaks no rule at all", async () => {
        await expectNoViolations(await resourcesOf(PROD), POLICIES);
    }, 30_000);

    test("dev (one all-roles host per site) as pattern 5 breaks no rule: its servers use the co-located load balancer's DB port", async () => {
        // Its firewall is off, as the section's default: host-firewall-enabled's advisory (test/policies/firewall.test.ts).
        await expectNoViolations(
            await resourcesOf(path.join(ROOT, "Pulumi.dev.yaml")),
            POLICIES.filter(p => p.name !== hostFirewallEnabled.name),
        );
    }, 30_000);

    test("prod as pattern 3 keeps fencing, a same-site VIP, a dedicated meta-disk, and the VIP as entry point and DB path", async () => {
        await expectNoViolations(await resourcesOf(PROD, "pacemaker"), [
            pacemakerFencing,
            drbdDedicatedMetaDisk,
            noVipAcrossSites,
            dbFailoverWitness,
            noPlaintextSecrets,
            siteLoadBalancers,
        ]);
    }, 30_000);
});

describe("placement rules", () => {
    test("ha-nodes-span-sites: both HA nodes in one site", async () => {
        const found = await violations(haNodesSpanSites, await resourcesOf(fixture("ha-nodes-one-site.yaml")));
        expect(found).toEqual([
            expect.objectContaining({
                level: "mandatory",
                message: expect.stringMatching(/all 2 nodes in site osaka/),
            }),
        ]);
    });

    test("no-vip-across-l3-sites: a pair split across sites, its VIP in a site without L2, a keepalived VIP on two sites", async () => {
        const found = await violations(noVipAcrossSites, await resourcesOf(fixture("pair-split-across-sites.yaml")));
        expect(found.map(v => v.message)).toEqual([
            expect.stringMatching(/members in sites tokyo and osaka/),
            expect.stringMatching(/site tokyo, which has no L2 segment/),
        ]);
        const keepalived = "vrrp_instance VI_1 {\n  virtual_ipaddress {\n    198.18.1.200/24\n  }\n}";
        const hosts = [
            { type: HOST.token, name: "a-h1", props: { host: "h1", site: "a", address: "198.18.1.21", roles: ["lb"] } },
            { type: HOST.token, name: "b-h2", props: { host: "h2", site: "b", address: "198.18.2.21", roles: ["lb"] } },
        ];
        const spanning = await violations(noVipAcrossSites, [
            ...hosts,
            command("ka-a", keepalived, "198.18.1.21"),
            command("ka-b", keepalived, "198.18.2.21"),
        ]);
        expect(spanning.map(v => v.message)).toEqual([
            expect.stringMatching(/keepalived VIP 198\.18\.1\.200 is configured on hosts in sites a and b/),
        ]);
        expect(await violations(noVipAcrossSites, [...hosts, command("ka-a", keepalived, "198.18.1.21")])).toEqual([]);
    });

    test("db-replicas-in-other-sites: a replica beside its primary", async () => {
        expect(await violations(replicasInOtherSites, [postgres()])).toEqual([]);
        const found = await violations(replicasInOtherSites, [
            postgres({ replicas: [dbAt("db-a2", "a", "198.18.1.12")] }),
        ]);
        expect(found).toEqual([
            expect.objectContaining({ message: expect.stringMatching(/Replica db-a2 .* site a, the primary's/) }),
        ]);
    });

    test("site-load-balancer: frontends without a load balancer, a fixed DB address, a pgsql-check", async () => {
        const split = await violations(siteLoadBalancers, await resourcesOf(fixture("pair-split-across-sites.yaml")));
        expect(split.map(v => v.message)).toEqual([
            expect.stringMatching(
                /Site tokyo has frontend tyo-1 but no load balancer of its own, nor a VIP that a cluster manager moves with the DB/,
            ),
            expect.stringMatching(/Site osaka has frontend osa-1 but no load balancer/),
        ]);
        const fixed = await violations(siteLoadBalancers, [
            postgres(),
            servers({ nodes: [{ ...at("zbx-a", "a", "198.18.1.21"), dbHost: "198.18.1.11", dbPort: 5432 }] }),
        ]);
        expect(fixed.map(v => v.message)).toEqual([
            expect.stringMatching(
                /^Zabbix server node zbx-a reaches the DB at 198\.18\.1\.11:5432, PostgreSQL on db-a, a fixed host of "zabbix-db"/,
            ),
        ]);
        const pgsqlCheck =
            "listen postgres_primary\n    mode tcp\n    option pgsql-check user zabbix\n    server db-a 198.18.1.11:5432 check\n";
        expect(await violations(siteLoadBalancers, [command("lb-haproxy", pgsqlCheck)])).toEqual([
            expect.objectContaining({
                message: expect.stringMatching(/asks neither pg_is_in_recovery\(\) nor Patroni/),
            }),
        ]);
        const lb = {
            type: LOAD_BALANCER.token,
            name: "a-lb",
            props: {
                site: "a",
                host: "lb-a",
                address: "198.18.1.41",
                dbRouting: "none",
                dbPort: 5433,
                dbServers: ["db-a"],
            },
        };
        expect((await violations(siteLoadBalancers, [lb])).map(v => v.message)).toEqual([
            expect.stringMatching(/routes its DB port without asking pg_is_in_recovery/),
        ]);
    }, 30_000);

    test("site-load-balancer judges the DB endpoint whole: address and port", async () => {
        // One host per site carries every role: PostgreSQL on 5432 and the load balancer's DB port 5433 share its address.
        const allRoles = [
            postgres({ primary: dbAt("a-1", "a", "198.18.1.10"), replicas: [dbAt("b-1", "b", "198.18.2.10")] }),
            loadBalancer("a-1", "a", "198.18.1.10"),
            loadBalancer("b-1", "b", "198.18.2.10"),
        ];
        const colocated = servers({
            nodes: [
                { ...at("a-1", "a", "198.18.1.10"), dbHost: "198.18.1.10", dbPort: 5433 },
                { ...at("b-1", "b", "198.18.2.10"), dbHost: "198.18.2.10", dbPort: 5433 },
            ],
        });
        expect(
            await violations(siteLoadBalancers, [...allRoles, colocated, frontend("a-1", "a", "198.18.1.10", 5433)]),
        ).toEqual([]);
        // The same address on PostgreSQL's own port is the fixed DB host; server and frontend are told apart.
        const direct = servers({ nodes: [{ ...at("a-1", "a", "198.18.1.10"), dbHost: "198.18.1.10", dbPort: 5432 }] });
        const found = await violations(siteLoadBalancers, [
            ...allRoles,
            direct,
            frontend("a-1", "a", "198.18.1.10", 5432),
        ]);
        expect(found.map(v => v.message)).toEqual([
            'Zabbix server node a-1 reaches the DB at 198.18.1.10:5432, PostgreSQL on a-1, a fixed host of "zabbix-db" that is a replica or down ' +
                "after a failover: point it at its site's load balancer's DB port, 198.18.1.10:5433.",
            'Frontend a-1 reaches the DB at 198.18.1.10:5432, PostgreSQL on a-1, a fixed host of "zabbix-db" that is a replica or down ' +
                "after a failover: point it at its site's load balancer's DB port, 198.18.1.10:5433.",
        ]);
        expect(found.map(v => v.resource)).toEqual([
            expect.stringMatching(/ZabbixServerCluster::zabbix-server$/),
            expect.stringMatching(/Frontend::a-1-frontend$/),
        ]);
    });

    test("site-load-balancer accepts a pair's VIP that a cluster manager moves with the DB, and only that", async () => {
        // The pair's database: Pacemaker runs PostgreSQL on n1 or n2, and the VIP follows it.
        const pairDb = postgres({
            primary: dbAt("n1", "a", "198.18.1.11"),
            replicas: [],
            pairPeer: dbAt("n2", "a", "198.18.1.12"),
            failover: "cluster-manager",
        });
        const onVip = servers({
            failover: "cluster-manager",
            nodes: ["n1", "n2"].map((n, i) => ({
                ...at(n, "a", `198.18.1.1${i + 1}`),
                dbHost: "198.18.1.100",
                dbPort: 5432,
            })),
        });
        const pairFrontends = [frontend("n1", "a", "198.18.1.100", 5432), frontend("n2", "a", "198.18.1.100", 5432)];
        expect(await violations(siteLoadBalancers, [pair(), pairDb, onVip, ...pairFrontends])).toEqual([]);
        // Without a database on the pair, its VIP follows nothing the frontends need.
        expect((await violations(siteLoadBalancers, [pair(), ...pairFrontends])).map(v => v.message)).toEqual([
            expect.stringMatching(/^Site a has frontend n1 but no load balancer/),
            expect.stringMatching(/^Site a has frontend n2 but no load balancer/),
        ]);
        // A frontend off the pair's nodes is not behind the VIP; a server on one node's own address is a fixed DB host.
        const onNode = servers({
            failover: "cluster-manager",
            nodes: [{ ...at("n1", "a", "198.18.1.11"), dbHost: "198.18.1.12", dbPort: 5432 }],
        });
        const found = await violations(siteLoadBalancers, [
            pair(),
            pairDb,
            onNode,
            frontend("web-a", "a", "198.18.1.100", 5432),
        ]);
        expect(found.map(v => v.message)).toEqual([
            expect.stringMatching(/^Site a has frontend web-a but no load balancer/),
            expect.stringMatching(
                /^Zabbix server node n1 reaches the DB at 198\.18\.1\.12:5432, PostgreSQL on n2, a fixed host/,
            ),
        ]);
    });

    test("db-failover-witness: automatic failover between two sites needs a witness in a third", async () => {
        expect(await violations(dbFailoverWitness, [postgres()])).toEqual([]);
        const automatic = postgres({ failover: "automatic", manager: "patroni" });
        expect((await violations(dbFailoverWitness, [automatic])).map(v => v.message)).toEqual([
            expect.stringMatching(/no witness in a third site/),
        ]);
        expect(await violations(dbFailoverWitness, [automatic, host("wit-1", "c", ["witness"])])).toEqual([]);
        expect((await violations(dbFailoverWitness, [postgres({ failover: undefined })])).map(v => v.message)).toEqual([
            expect.stringMatching(/does not declare how its DB fails over/),
        ]);
        // Patroni's cluster as planned: a witness site holds the third etcd member.
        expect(await violations(dbFailoverWitness, await resourcesOf(fixture("patroni-three-sites.yaml")))).toEqual([]);
        const patroniTwoSites = { ...postgres({ failover: "automatic", manager: "patroni" }), type: PATRONI.token };
        expect((await violations(dbFailoverWitness, [patroniTwoSites])).map(v => v.message)).toEqual([
            expect.stringMatching(/fails over automatically \(patroni\)/),
        ]);
        const split = await violations(dbFailoverWitness, await resourcesOf(fixture("pair-split-across-sites.yaml")));
        expect(split.map(v => v.message)).toContainEqual(
            expect.stringMatching(/fails over automatically \(cluster-manager\) between sites tokyo and osaka/),
        );
    });
});

afterAll(() => {
    // Every rule of the pack has been run against a violating case above.
    expect([...covered].sort()).toEqual(POLICIES.map(p => p.name).sort());
});
