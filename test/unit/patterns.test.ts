import * as path from "path";
import { ConfigError } from "../../components/config";
import { SCENARIO_IDS, Topology, scenarioMatrix } from "../../model";
import { CapturedPlan, ofType } from "../../tools/offline/capture";
import { readEnvironment } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { ComparisonReport, blockingViolations, comparePatterns, reportJson } from "../../tools/preview/compare";
import { markdownReport } from "../../tools/preview/markdown";
import { terminalTable } from "../../tools/preview/terminal";
import {
    MANUAL_DB_FAILOVER,
    ROOT,
    TEST_SSH_KEY,
    byName,
    commands,
    exampleEnvironment,
    scriptOf,
    target,
} from "../support/plan";

const PROD = path.join(ROOT, "Pulumi.prod.yaml");

async function planPattern(pattern: string, overrides: Record<string, string> = {}): Promise<CapturedPlan> {
    const plan = await planEnvironment(readEnvironment(PROD), {
        placeholderSecrets: true,
        secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
        overrides: { "zabbix-ha:pattern": pattern, ...overrides },
    });
    expect(plan.error).toBeUndefined();
    return plan;
}

function topologyOf(plan: CapturedPlan): Topology {
    return (plan.outputs as { topology: Topology }).topology;
}

function names(plan: CapturedPlan, type: string): string[] {
    return ofType(plan, `zabbix-ha:${type}`)
        .map(r => r.name)
        .sort();
}

describe("each pattern's graph on the prod environment", () => {
    test("1 standalone: a complete, separate Zabbix per site; no replica, nothing spans sites", async () => {
        const plan = await planPattern("standalone", MANUAL_DB_FAILOVER);
        expect(names(plan, "postgres:PostgresCluster")).toEqual(["osaka-zabbix-db", "tokyo-zabbix-db"]);
        expect(names(plan, "zabbix:ZabbixServerCluster")).toEqual(["osaka-zabbix-server", "tokyo-zabbix-server"]);
        expect(commands(plan).filter(c => c.name.endsWith("-follow"))).toEqual([]);
        // Each load balancer serves only its own site's frontend and database.
        const haproxy = scriptOf(byName(plan, "osaka-lb-haproxy"));
        expect(haproxy).toContain("server osa-web1 198.18.20.31:8080 check");
        expect(haproxy).not.toContain("198.18.10.");
        expect(topologyOf(plan).instances.map(i => i.name)).toEqual(["tokyo", "osaka"]);
        // A lone node is still an HA node, so that the cluster can grow (or shrink back to it) without
        // Zabbix's refused switch of mode; its watcher knows it is the cluster's only node.
        const lone = scriptOf(byName(plan, "tokyo-zabbix-server-tyo-zbx1"));
        expect(lone).toMatch(/^HANodeName=tyo-zbx1$/m);
        expect(lone).toContain("name not in ('\\''tyo-zbx1'\\'')");
    });

    test("1 standalone on a config with db.failover patroni: each site's one DB host runs plain PostgreSQL (nothing to fail over to)", async () => {
        const plan = await planPattern("standalone");
        expect(names(plan, "postgres:PostgresCluster")).toEqual(["osaka-zabbix-db", "tokyo-zabbix-db"]);
        expect(names(plan, "postgres:PatroniCluster")).toEqual([]);
        expect(commands(plan).filter(c => c.name.endsWith("-etcd") || c.name.endsWith("-patroni"))).toEqual([]);
    });

    test("2 active-active: pattern 1 plus a timer that copies configuration through the Zabbix API, credentials secret", async () => {
        const plan = await planPattern("active-active");
        const sync = byName(plan, "config-sync-timer");
        expect(target(sync)).toBe("198.18.10.21");
        const script = scriptOf(sync);
        // Over HTTPS to each site's load balancer, the certificate verified against the stack's CA.
        expect(script).toContain("SOURCE='https://198.18.10.41/api_jsonrpc.php'");
        expect(script).toContain("TARGETS='https://198.18.20.41/api_jsonrpc.php'");
        expect(script).toContain("CA_FILE='/etc/ssl/zabbix-ha/ca.crt'");
        expect(script).toContain('--proto =https --cacert "$CA_FILE"');
        expect(script).toContain("configuration.export");
        expect(script).toContain("configuration.import");
        expect(sync.secretInputs).toContain("stdin");
        expect(script).not.toContain(String(sync.inputs.stdin).trim());
        expect(topologyOf(plan).configSync).toEqual({ source: "tokyo", targets: ["osaka"], intervalSeconds: 600 });
    });

    test("3 pacemaker: only the pair in one site, a DRBD pair with a VIP, no native HA", async () => {
        const plan = await planPattern("pacemaker");
        expect(new Set(commands(plan).map(target))).toEqual(new Set(["198.18.10.11", "198.18.10.21"]));
        expect(names(plan, "drbd:DrbdPair")).toEqual(["zabbix-pair"]);
        expect(byName(plan, "zabbix-db-provider").inputs.host).toBe("198.18.10.100");
        const server = scriptOf(byName(plan, "zabbix-server-tyo-db1"));
        expect(server).not.toMatch(/^HANodeName=/m);
        expect(server).toContain("DBHost=198.18.10.100");
        expect(server).not.toContain("systemctl enable zabbix-server");
        const instance = topologyOf(plan).instances[0];
        expect(instance.entryPoints).toEqual([{ kind: "vip", site: "tokyo" }]);
        expect(instance.database.failover).toBe("cluster-manager");
        // Users reach the active node's nginx at the VIP, over HTTPS; the standby holds no VIP to bind, so every IPv4 address.
        expect(plan.outputs?.uiUrls).toEqual({ tokyo: "https://198.18.10.100:8080/" });
        const site = scriptOf(byName(plan, "tyo-db1-frontend-web"));
        expect(site.match(/^ {4}listen .*$/gm)).toEqual(["    listen 0.0.0.0:8080 ssl;"]);
    });

    test("3 pacemaker: a fence parameter the CIB must not hold is a config error at its path, before any resource", async () => {
        const drbd = JSON.parse(readEnvironment(PROD).config["zabbix-ha:drbd"]);
        drbd.fencing.devices[0].params.snmp_priv_passwd = "in-clear";
        const plan = await planEnvironment(readEnvironment(PROD), {
            placeholderSecrets: true,
            secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
            overrides: { "zabbix-ha:pattern": "pacemaker", "zabbix-ha:drbd": JSON.stringify(drbd) },
        });
        expect(plan.error).toBeInstanceOf(ConfigError);
        expect((plan.error as ConfigError).problems.map(p => p.path)).toEqual([
            "drbd.fencing.devices[0].params.snmp_priv_passwd",
        ]);
        expect(plan.error?.message).toContain("Give snmp_priv_passwd_script instead, a command that prints it");
        expect(plan.resources.filter(r => r.custom)).toEqual([]);
    });

    test("4 cloud: a managed database configured only through the provider; no DB host is touched", async () => {
        const plan = await planPattern("cloud");
        expect(names(plan, "postgres:PostgresCluster")).toEqual([]);
        expect(names(plan, "postgres:ManagedDatabase")).toEqual(["zabbix-db"]);
        expect(byName(plan, "zabbix-db-provider").inputs).toMatchObject({
            host: "zabbix-db.cloud.example.net",
            sslmode: "verify-full",
        });
        expect(commands(plan).map(target)).not.toContain("198.18.10.11");
        expect(scriptOf(byName(plan, "zabbix-server-osa-zbx1"))).toContain("DBHost=zabbix-db.cloud.example.net");
        // The endpoint's sslmode holds for every client of it: servers, frontends and the schema load
        // (test/unit/managed-db-ca.test.ts follows the provider's CA to each of them).
        expect(scriptOf(byName(plan, "zabbix-server-osa-zbx1"))).toContain("DBTLSConnect=verify_full");
        expect(scriptOf(byName(plan, "osa-web1-frontend-web"))).toContain("$DB['ENCRYPTION']  = true;");
        expect(scriptOf(byName(plan, "zabbix-db-schema"))).toContain("PGSSLMODE=verify-full");
        // The load balancers balance the UI only.
        expect(scriptOf(byName(plan, "tokyo-lb-haproxy"))).not.toContain("listen postgres_primary");
        expect(topologyOf(plan).hosts.every(h => h.cloud)).toBe(true);
    });

    test("5 zabbix-ha: one instance over every site, native HA, DB through each site's load balancer", async () => {
        const plan = await planPattern("zabbix-ha");
        const instance = topologyOf(plan).instances[0];
        expect(topologyOf(plan).instances).toHaveLength(1);
        expect(instance.serverFailover).toBe("native-ha");
        expect(new Set(instance.servers.map(s => s.site))).toEqual(new Set(["tokyo", "osaka"]));
        expect(instance.dbAccess).toBe("site-load-balancer");
        // Each node's watcher asks ha_node through the node's own DB path, as the server does.
        const node = scriptOf(byName(plan, "zabbix-server-osa-zbx1"));
        expect(node).toContain("systemctl enable --quiet zabbix-ha-takeover.service");
        // A node that stops itself on a database error comes back.
        expect(node).toMatch(
            /zha_put_file '\/etc\/systemd\/system\/zabbix-server\.service\.d\/zabbix-ha\.conf' 0644 root:root <<'\w+'\n[^]*?Restart=always\n/,
        );
        expect(node).toMatch(/psql -X -q -t -A -w -h 198\.18\.20\.\d+ -p 5433 -U zabbix -d zabbix -c /);
        expect(node).toContain("where name = '\\''osa-zbx1'\\''");
        // A frontend behind the load balancers: nginx over HTTPS on its own address only.
        const site = scriptOf(byName(plan, "osa-web1-frontend-web"));
        expect(site.match(/^ {4}listen .*$/gm)).toEqual(["    listen 198.18.20.31:8080 ssl;"]);
        expect(plan.outputs?.uiUrls).toEqual({ tokyo: "https://198.18.10.41/", osaka: "https://198.18.20.41/" });
    });
});

test("5 zabbix-ha with db.fallbackPair: the primary's site holds a DRBD pair behind a VIP, replicas stream from the VIP", async () => {
    const plan = await planEnvironment(readEnvironment(path.join(ROOT, "test", "fixtures", "fallback-pair.yaml")), {
        placeholderSecrets: true,
        secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
    });
    expect(plan.error).toBeUndefined();
    expect(names(plan, "drbd:DrbdPair")).toEqual(["zabbix-db-pair"]);
    expect(scriptOf(byName(plan, "tokyo-lb-haproxy"))).toContain("server db-pair-vip 198.18.10.100:5432 check");
    expect(scriptOf(byName(plan, "zabbix-db-osa-db1-follow"))).toContain(
        "primary_conninfo = 'host=198.18.10.100 port=5432",
    );
    // The pair's nodes answer on the VIP too; PostgreSQL there is started by Pacemaker only.
    const pairConfig = scriptOf(byName(plan, "zabbix-db-tyo-db2-config"));
    expect(pairConfig).toContain("listen_addresses = '*'");
    expect(pairConfig).not.toContain("systemctl enable");
    const db = topologyOf(plan).instances[0].database;
    expect(db).toMatchObject({
        primary: { host: "tyo-db1" },
        standbys: [{ host: "osa-db1" }],
        failover: "manual",
        pair: { peer: { host: "tyo-db2" } },
    });
    // A crash of the primary's host now fails over inside the site, automatically.
    const matrix = scenarioMatrix(topologyOf(plan));
    expect(matrix.find(s => s.id === "db-primary-down")).toMatchObject({ monitoring: "yes", recovery: "automatic" });
    expect(matrix.find(s => s.id === "site-down")).toMatchObject({ monitoring: "no", recovery: "manual" });
});

test("5 zabbix-ha with db.failover patroni: etcd in three sites, Patroni on the DB hosts, load balancers ask /primary", async () => {
    const plan = await planEnvironment(
        readEnvironment(path.join(ROOT, "test", "fixtures", "patroni-three-sites.yaml")),
        {
            placeholderSecrets: true,
            secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
        },
    );
    expect(plan.error).toBeUndefined();
    expect(names(plan, "postgres:PatroniCluster")).toEqual(["zabbix-db"]);
    expect(names(plan, "postgres:PostgresCluster")).toEqual([]);
    const etcd = commands(plan).filter(c => c.name.endsWith("-etcd"));
    expect(etcd.map(target).sort()).toEqual(["198.18.1.10", "198.18.2.10", "198.18.3.10"]);
    // In name order, so that moving db.primarySite does not change (and restart) every member at once.
    expect(scriptOf(etcd[0])).toContain(
        'ETCD_INITIAL_CLUSTER="osa-1=https://198.18.2.10:2380,tyo-1=https://198.18.1.10:2380,wit-1=https://198.18.3.10:2380"',
    );
    // One member at a time: each member's step waits for the one before it (a change restarts them in turn).
    const etcdByName = [...etcd].sort((a, b) => a.name.localeCompare(b.name));
    expect(etcdByName.map(c => c.name)).toEqual([
        "zabbix-db-osa-1-etcd",
        "zabbix-db-tyo-1-etcd",
        "zabbix-db-wit-1-etcd",
    ]);
    const etcdBefore = (c: (typeof etcd)[number]) => c.dependsOn.filter(id => etcd.some(e => e.id === id));
    expect(etcdByName.map(etcdBefore)).toEqual([[], [etcdByName[0].id], [etcdByName[1].id]]);
    // Each after its host's TLS files (etcd reads the certificate and its key when it starts).
    expect(etcdByName[0].dependsOn).toContain("command:remote:Command::osaka-osa-1-tls");
    // A member back from a cut must not depose the leader (and so demote a healthy primary).
    expect(scriptOf(etcd[0])).toContain('ETCD_PRE_VOTE="true"');
    const patroni = scriptOf(byName(plan, "zabbix-db-osa-1-patroni"));
    expect(patroni).toContain("name: osa-1");
    expect(patroni).toContain('password: "$SUPERUSER_PASSWORD"');
    // The REST API's unsafe endpoints: the generated password from stdin, and who may call them.
    expect(patroni).toContain('password: "$REST_API_PASSWORD"');
    expect(patroni).toMatch(/ {2}allowlist:\n( {4}- \S+\n)+/);
    expect(patroni).toContain('systemctl disable --now "$PG_SERVICE"');
    const haproxy = scriptOf(byName(plan, "tokyo-lb-haproxy"));
    expect(haproxy).toContain("option httpchk GET /primary");
    expect(haproxy).not.toContain("external-check");
    // Patroni makes its own replication role and slots; the provider does not.
    expect(ofType(plan, "postgresql:index/physicalReplicationSlot:PhysicalReplicationSlot")).toEqual([]);
    const deps = (name: string) => byName(plan, name).dependsOn;
    expect(deps("zabbix-db-tyo-1-patroni")).toContain(byName(plan, "zabbix-db-etcd-healthy").id);
    expect(deps("zabbix-db-osa-1-patroni")).toContain(byName(plan, "zabbix-db-tyo-1-patroni").id);
    const topology = topologyOf(plan);
    expect(topology.instances[0].database).toMatchObject({
        failover: "automatic",
        quorum: [{ host: "tyo-1" }, { host: "osa-1" }, { host: "wit-1" }],
    });
    const matrix = scenarioMatrix(topology);
    expect(matrix.find(s => s.id === "site-down")).toMatchObject({ monitoring: "yes", recovery: "automatic" });
    expect(matrix.find(s => s.id === "db-primary-down")).toMatchObject({ monitoring: "yes", recovery: "automatic" });
    // Cut every site from every other and no node has a majority: no primary, by design (no split brain).
    expect(matrix.find(s => s.id === "inter-site-cut")).toMatchObject({ monitoring: "no" });
});

describe("the side-by-side comparison (prod's sites, manual DB failover)", () => {
    let report: ComparisonReport;
    beforeAll(async () => {
        report = await comparePatterns(exampleEnvironment("prod", MANUAL_DB_FAILOVER));
    }, 30_000);

    test("the JSON has the shape tools downstream rely on", () => {
        const json = JSON.parse(reportJson(report));
        expect(json.patterns.map((p: { id: number; name: string }) => `${p.id} ${p.name}`)).toEqual([
            "1 standalone",
            "2 active-active",
            "3 pacemaker",
            "4 cloud",
            "5 zabbix-ha",
        ]);
        for (const p of json.patterns) {
            expect(typeof p.hosts).toBe("number");
            expect(typeof p.resources).toBe("number");
            // A proxy down happens only where there are proxies (prod has none).
            expect(p.scenarios.map((s: { id: string }) => s.id)).toEqual(
                SCENARIO_IDS.filter(id => id !== "proxy-down"),
            );
            for (const s of p.scenarios) {
                expect(["yes", "degraded", "no"]).toContain(s.monitoring);
                expect(typeof s.ui).toBe("boolean");
                expect(typeof s.duplicateAlerts).toBe("boolean");
                expect(["automatic", "manual", "none"]).toContain(s.recovery);
                // A range from the mechanisms (soonest, latest), or null for an operator's recovery.
                if (s.recoverySeconds !== null) {
                    expect(Object.keys(s.recoverySeconds).sort()).toEqual(["max", "min"]);
                    expect(s.recoverySeconds.min).toBeLessThanOrEqual(s.recoverySeconds.max);
                    expect(s.recoverySeconds.min).toBeGreaterThanOrEqual(0);
                }
                expect(typeof s.dataAtRisk).toBe("string");
                expect(s.dataAtRisk).toBe(s.risks.length > 0 ? s.risks.join("; ") : "none");
                // Manual recoveries say why; others carry no cause.
                expect(s.operatorCauses.length > 0).toBe(s.recovery === "manual");
                for (const c of s.operatorCauses) {
                    expect(Object.keys(c).sort()).toEqual(["change", "id", "reason", "summary"]);
                    expect(c.reason.startsWith(c.summary)).toBe(true);
                }
            }
            for (const minutes of [p.availability.downtimeMinutesPerYear, p.availability.degradedMinutesPerYear]) {
                expect(typeof minutes.min).toBe("number");
                expect(minutes.min).toBeLessThanOrEqual(minutes.max);
            }
            expect(["99.9999%", "99.999%", "99.99%", "99.9%", "99%", "<99%"]).toContain(p.availability.class);
            expect(typeof p.cost.totalYearly).toBe("number");
            expect(Array.isArray(p.violations)).toBe(true);
        }
        expect(json.configuredPattern).toBe("zabbix-ha");
        expect(json.studyChoice).toMatchObject({ id: 5, name: "zabbix-ha", why: expect.stringContaining("VIP") });
    });

    test("the terminal table has a column per pattern and a row per scenario", () => {
        const text = terminalTable(report, 200);
        const header = text.split("\n").find(l => l.includes("1 standalone"))!;
        for (const p of ["1 standalone", "2 active-active", "3 pacemaker", "4 cloud", "5 zabbix-ha *+"]) {
            expect(header).toContain(p);
        }
        // With a manual DB failover, a cut keeps the primary where it is: the other site's node takes over from its own side.
        const cut =
            /^link between sites cut +yes, dup +yes, dup +yes +yes auto ([\d.]+-[\d.]+s) +yes auto ([\d.]+-[\d.]+s)$/m.exec(
                text,
            );
        expect(cut).not.toBeNull();
        // Both take over from the node's own side after the same delay: the same range, from the same mechanism.
        expect(cut![1]).toBe(cut![2]);
    });

    test("the Markdown has the table and one balanced Mermaid diagram per pattern", () => {
        const md = markdownReport(report);
        expect(md).toContain("|  | 1 standalone | 2 active-active | 3 pacemaker | 4 cloud | 5 zabbix-ha \\*+ |");
        const diagrams = md
            .split("```mermaid\n")
            .slice(1)
            .map((d: string) => d.slice(0, d.indexOf("```")));
        expect(diagrams).toHaveLength(5);
        for (const d of diagrams) {
            expect(d.match(/^\s*subgraph /gm)?.length).toBe(d.match(/^\s*end$/gm)?.length);
        }
        expect(diagrams[4]).toContain('osa_db1 -.->|"streams from"| tyo_db1');
        expect(diagrams[2]).toContain('{{"VIP"}}');
    });

    test("the policy pack's violations are listed per pattern, and only mandatory ones block", async () => {
        const oneSite = await comparePatterns(
            readEnvironment(path.join(ROOT, "test", "fixtures", "ha-nodes-one-site.yaml")),
        );
        const json = JSON.parse(reportJson(oneSite));
        const zabbixHa = json.patterns.find((p: { name: string }) => p.name === "zabbix-ha");
        expect(zabbixHa.violations).toContainEqual({
            policy: "ha-nodes-span-sites",
            level: "mandatory",
            message: expect.stringMatching(/has all 2 nodes in site osaka/),
            resource: expect.stringMatching(/zabbix-ha:zabbix:ZabbixServerCluster::zabbix-server$/),
        });
        expect(blockingViolations(oneSite, "zabbix-ha").length).toBeGreaterThan(0);
        expect(terminalTable(oneSite)).toContain(
            "pattern 5 zabbix-ha breaks design rules:\n  - [mandatory] ha-nodes-span-sites:",
        );
        // Advisories are listed but do not block.
        const small = await comparePatterns(
            readEnvironment(path.join(ROOT, "test", "fixtures", "slow-failover-small-hosts.yaml")),
        );
        const standalone = small.patterns.find(p => p.name === "standalone")!;
        expect(standalone.violations).toContainEqual(
            expect.objectContaining({ policy: "server-host-hardware", level: "advisory" }),
        );
        expect(blockingViolations(small, "standalone")).toEqual([]);
        expect(blockingViolations(report, "zabbix-ha")).toEqual([]);
    }, 30_000);

    test("a pattern the config cannot form reports its errors while the others still preview", async () => {
        const dev = await comparePatterns(readEnvironment(path.join(ROOT, "Pulumi.dev.yaml")));
        const pacemaker = dev.patterns.find(p => p.name === "pacemaker")!;
        expect(pacemaker.errors).toContainEqual(expect.stringMatching(/^drbd: is required/));
        expect(pacemaker.scenarios).toEqual([]);
        expect(dev.patterns.filter(p => p.errors.length === 0).map(p => p.name)).toEqual([
            "standalone",
            "active-active",
            "cloud",
            "zabbix-ha",
        ]);
        expect(terminalTable(dev)).toContain("pattern 3 pacemaker cannot be formed from this config:");
    }, 30_000);
});
