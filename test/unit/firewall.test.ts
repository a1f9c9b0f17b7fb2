/**
 * The host firewall: which ports each host admits, and from whom, follow from what the pattern built.
 * Plans run through the real stack program; the flows are read off each HostFirewall's facts.
 */
import { HostFirewallFacts } from "../../components/facts";
import { FIREWALL_CANDIDATE, FIREWALL_FILE } from "../../components/firewall";
import { CapturedPlan, ofType } from "../../tools/offline/capture";
import { planEnvironment } from "../../tools/offline/stack";
import {
    MANUAL_DB_FAILOVER,
    byName,
    commands,
    configProblems,
    exampleEnvironment,
    planExample,
    scriptOf,
    target,
    TEST_SSH_KEY,
    twoSiteConfig,
} from "../support/plan";
import { SET_AS_SECRET, ValidationOptions } from "../../components/config";

jest.setTimeout(120_000);

/** Prod's hosts under another pattern, with placeholders for the secrets that pattern needs. */
function planProdAs(overrides: Record<string, string>): Promise<CapturedPlan> {
    return planEnvironment(exampleEnvironment("prod", overrides), {
        placeholderSecrets: true,
        secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
    });
}

const ON = { "zabbix-ha:firewall": JSON.stringify({ enabled: true }) };

/** Every host's facts, by host name. */
function firewalls(plan: CapturedPlan): Map<string, HostFirewallFacts> {
    expect(plan.error).toBeUndefined();
    return new Map(
        ofType(plan, "zabbix-ha:firewall:HostFirewall").map(r => {
            const facts = r.inputs as unknown as HostFirewallFacts;
            return [facts.host, facts];
        }),
    );
}

/** The sources a host admits on a port, or undefined when it does not admit the port. */
function sourcesOf(plan: CapturedPlan, host: string, port: number, protocol = "tcp"): string[] | undefined {
    const facts = firewalls(plan).get(host);
    expect(facts).toBeDefined();
    return facts!.admits.find(a => a.port === port && a.protocol === protocol)?.sources;
}

function portsOf(plan: CapturedPlan, host: string): string[] {
    return firewalls(plan)
        .get(host)!
        .admits.map(a => `${a.protocol}/${a.port}`);
}

const ADMIN = "198.18.100.0/24";
const TYO = { db: "198.18.10.11", zbx: "198.18.10.21", web: "198.18.10.31", lb: "198.18.10.41" };
const OSA = { db: "198.18.20.11", zbx: "198.18.20.21", web: "198.18.20.31", lb: "198.18.20.41" };
const WITNESS = "198.18.30.11";

describe("the prod example (native HA, Patroni with etcd on the DB hosts and the witness)", () => {
    let plan: CapturedPlan;
    beforeAll(async () => {
        plan = await planExample("prod");
    });

    test("every host loads a firewall, and installs nftables in its package step", () => {
        const hosts = firewalls(plan);
        expect([...hosts.keys()].sort()).toEqual(
            [
                "osa-db1",
                "osa-lb1",
                "osa-web1",
                "osa-zbx1",
                "tyo-db1",
                "tyo-lb1",
                "tyo-web1",
                "tyo-zbx1",
                "wit-1",
            ].sort(),
        );
        const packageSteps = commands(plan).filter(c => c.name.endsWith("-packages"));
        expect(packageSteps.length).toBe(hosts.size);
        for (const step of packageSteps) {
            expect({ step: step.name, nftables: /for zha_pkg in [^\n]*\bnftables\b/.test(scriptOf(step)) }).toEqual({
                step: step.name,
                nftables: true,
            });
        }
    });

    test("the witness admits etcd's peer port only from the other etcd members, and nothing of Zabbix", () => {
        expect(sourcesOf(plan, "wit-1", 2380)).toEqual([TYO.db, OSA.db]);
        expect(sourcesOf(plan, "wit-1", 2379)).toEqual([TYO.db, OSA.db]);
        expect(portsOf(plan, "wit-1")).toEqual(["tcp/22", "tcp/2379", "tcp/2380"]);
    });

    test("a DB host admits PostgreSQL from the load balancers, its DB peer and the admin network, not from a frontend or server", () => {
        const sources = sourcesOf(plan, "tyo-db1", 5432)!;
        expect(sources).toEqual([TYO.lb, OSA.db, OSA.lb, ADMIN]);
        expect(sources).not.toContain(TYO.web);
        expect(sources).not.toContain(TYO.zbx);
        // The load balancers ask Patroni who leads; the peers and the admin network reach it too.
        expect(sourcesOf(plan, "tyo-db1", 8008)).toEqual([TYO.lb, OSA.db, OSA.lb, ADMIN]);
        expect(sourcesOf(plan, "tyo-db1", 2380)).toEqual([OSA.db, WITNESS]);
    });

    test("Patroni's REST allowlist names the sources the firewall admits to its port, and the host itself (its patronictl)", () => {
        const step = commands(plan).find(c => c.name.endsWith("-tyo-db1-patroni"))!;
        const listed = /\n {2}allowlist:\n((?: {4}- \S+\n)+)/.exec(scriptOf(step));
        expect(listed).not.toBeNull();
        const allowlist = listed![1]
            .trim()
            .split("\n")
            .map(line => line.trim().replace(/^- /, ""));
        expect([...allowlist].sort()).toEqual([...sourcesOf(plan, "tyo-db1", 8008)!, TYO.db].sort());
    });

    test("a load balancer's DB port admits its own site's server and frontend and the admin network", () => {
        expect(sourcesOf(plan, "tyo-lb1", 5433)).toEqual([TYO.zbx, TYO.web, ADMIN]);
        expect(sourcesOf(plan, "osa-lb1", 5433)).toEqual([OSA.zbx, OSA.web, ADMIN]);
        expect(sourcesOf(plan, "tyo-lb1", 80)).toEqual(["any"]);
        expect(sourcesOf(plan, "tyo-lb1", 443)).toEqual(["any"]);
    });

    test("a frontend's nginx is reached only by the load balancers; a server's listenPort by frontends and the monitored network", () => {
        expect(sourcesOf(plan, "tyo-web1", 8080)).toEqual([TYO.lb, OSA.lb]);
        expect(portsOf(plan, "tyo-web1")).toEqual(["tcp/22", "tcp/8080"]);
        expect(sourcesOf(plan, "osa-zbx1", 10051)).toEqual([TYO.web, OSA.web, "198.18.64.0/18"]);
    });

    test("the ruleset is checked by nft -c before it replaces the loaded file, and the delete drops the table", () => {
        const step = byName(plan, "wit-1-firewall-load");
        const script = scriptOf(step);
        const check = script.indexOf(`nft -c -f ${FIREWALL_CANDIDATE}`);
        const replace = script.indexOf(`zha_put_file ${FIREWALL_FILE} `);
        expect(check).toBeGreaterThan(0);
        expect(replace).toBeGreaterThan(check);
        expect(scriptOf(step, "delete")).toContain("nft delete table inet zabbix_ha");
        expect(target(step)).toBe(WITNESS);
    });
});

describe("flows follow the topology", () => {
    test("a frontend added in a site is admitted by its site's load balancer's DB port and by every server", async () => {
        const sites = JSON.parse(exampleEnvironment("prod").config["zabbix-ha:sites"]) as {
            name: string;
            hosts: Record<string, unknown>[];
        }[];
        const more = sites.map(s =>
            s.name === "osaka"
                ? { ...s, hosts: [...s.hosts, { name: "osa-web2", address: "198.18.20.32", roles: ["frontend"] }] }
                : s,
        );
        const plan = await planExample("prod", { "zabbix-ha:sites": JSON.stringify(more) });
        expect(sourcesOf(plan, "osa-lb1", 5433)).toEqual([OSA.zbx, OSA.web, "198.18.20.32", ADMIN]);
        expect(sourcesOf(plan, "tyo-lb1", 5433)).toEqual([TYO.zbx, TYO.web, ADMIN]);
        expect(sourcesOf(plan, "tyo-zbx1", 10051)).toEqual([TYO.web, OSA.web, "198.18.20.32", "198.18.64.0/18"]);
        expect(sourcesOf(plan, "osa-web2", 8080)).toEqual([TYO.lb, OSA.lb]);
    });

    test("a manual DB failover opens no Patroni or etcd port anywhere", async () => {
        const plan = await planExample("prod", MANUAL_DB_FAILOVER);
        for (const [host, facts] of firewalls(plan)) {
            const ports = facts.admits.map(a => a.port);
            expect({ host, patroniOrEtcd: ports.filter(p => [8008, 2379, 2380].includes(p)) }).toEqual({
                host,
                patroniOrEtcd: [],
            });
        }
        // The witness then runs nothing: SSH alone.
        expect(portsOf(plan, "wit-1")).toEqual(["tcp/22"]);
    });

    test("a pair serving the UI on its VIP (pattern 3) admits the UI from users, DRBD and corosync from its peer only", async () => {
        const plan = await planProdAs({
            "zabbix-ha:pattern": "pacemaker",
            "zabbix-ha:firewall": JSON.stringify({ enabled: true, usersNetwork: "198.18.200.0/24" }),
        });
        expect([...firewalls(plan).keys()].sort()).toEqual(["tyo-db1", "tyo-zbx1"]);
        expect(sourcesOf(plan, "tyo-db1", 8080)).toEqual(["198.18.200.0/24"]);
        expect(sourcesOf(plan, "tyo-db1", 7788)).toEqual([TYO.zbx]);
        expect(sourcesOf(plan, "tyo-db1", 5405, "udp")).toEqual([TYO.zbx]);
        expect(sourcesOf(plan, "tyo-zbx1", 5405, "udp")).toEqual([TYO.db]);
        // Its server and DB are reached through the VIP, which either node may hold: each admits the other.
        expect(sourcesOf(plan, "tyo-zbx1", 5432)).toEqual([TYO.db, ADMIN]);
    });

    test("pattern 2's config sync reaches every load balancer's UI even when users are narrowed", async () => {
        const plan = await planProdAs({
            "zabbix-ha:pattern": "active-active",
            "zabbix-ha:firewall": JSON.stringify({ enabled: true, usersNetwork: ["198.18.200.0/24"] }),
        });
        // The sync runs on the source site's server node.
        expect(sourcesOf(plan, "osa-lb1", 80)).toEqual([TYO.zbx, "198.18.200.0/24"]);
        expect(sourcesOf(plan, "osa-lb1", 443)).toEqual([TYO.zbx, "198.18.200.0/24"]);
        // Each site's DB is its own: no replication between the sites.
        expect(sourcesOf(plan, "osa-db1", 5432)).toEqual([OSA.lb, ADMIN]);
    });

    test("with the firewall off (the default), no host loads one and nftables is not installed", async () => {
        const plan = await planExample("dev");
        expect(firewalls(plan).size).toBe(0);
        for (const step of commands(plan).filter(c => c.name.endsWith("-packages"))) {
            expect(scriptOf(step)).not.toMatch(/\bnftables\b/);
        }
        const on = await planExample("dev", ON);
        expect(firewalls(on).size).toBeGreaterThan(0);
    });
});

describe("the firewall section", () => {
    const options: ValidationOptions = {
        secrets: { sshPrivateKey: SET_AS_SECRET },
        requirements: { minSites: 2, requiredRoles: [], selfRunDatabase: true },
    };
    const problems = (firewall: unknown) => configProblems({ ...twoSiteConfig(), firewall }, options);

    test("accepts networks, addresses and lists", () => {
        expect(problems({ enabled: true, sshFrom: "198.18.5.7", usersNetwork: ["198.18.6.0/24"] })).toEqual([]);
        expect(problems(undefined)).toEqual([]);
    });

    test("names the path of each bad value", () => {
        expect(problems({ enabled: "yes" })).toEqual(['firewall.enabled: expected true or false, got string "yes"']);
        expect(problems({ sshFrom: ["198.18.5.0/24", "10.0.0.0/8"] })).toEqual([
            expect.stringMatching(/^firewall\.sshFrom\[1\]: 10\.0\.0\.0\/8 is too wide/),
        ]);
        expect(problems({ sshFrom: "any" })).toEqual([
            expect.stringMatching(/^firewall\.sshFrom: "any" is not allowed/),
        ]);
        expect(problems({ usersNetwork: ["198.18.6.1/24"] })).toEqual([
            expect.stringMatching(/^firewall\.usersNetwork\[0\]: .*host bits set/),
        ]);
        expect(problems({ monitoredNetwork: 42 })).toEqual([
            expect.stringMatching(/^firewall\.monitoredNetwork: expected/),
        ]);
        expect(problems({ sshform: [] })).toEqual([expect.stringMatching(/^firewall\.sshform: unknown key/)]);
    });

    test("a problem in it stops the plan before any resource", async () => {
        const plan = await planExample("prod", { "zabbix-ha:firewall": JSON.stringify({ sshFrom: "0.0.0.0/0" }) });
        expect(plan.error?.message).toMatch(/firewall\.sshFrom\[0\]|firewall\.sshFrom:/);
        expect(plan.resources.filter(r => r.type.startsWith("command:"))).toEqual([]);
    });
});
