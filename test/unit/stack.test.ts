import { InstanceTopology, Topology } from "../../model";
import { CapturedPlan, ofType, transitiveDependencies } from "../../tools/offline/capture";
import {
    MANUAL_DB_FAILOVER,
    byName,
    commands,
    planConfig,
    planExample,
    scriptOf,
    target,
    TEST_SSH_KEY,
    twoSiteConfig,
} from "../support/plan";

const RANDOM = "random:index/randomPassword:RandomPassword";

/** The only Zabbix instance of a single-instance plan, from its exported topology. */
function instanceOf(plan: CapturedPlan): InstanceTopology {
    const topology = (plan.outputs as { topology: Topology }).topology;
    expect(topology.instances).toHaveLength(1);
    return topology.instances[0];
}

/** Step names (without the component prefix) that ran on one address. */
function stepsOn(plan: CapturedPlan, address: string): string[] {
    return commands(plan)
        .filter(c => target(c) === address)
        .map(c => c.name);
}

function componentNames(plan: CapturedPlan, type: string): string[] {
    return ofType(plan, `zabbix-ha:${type}`)
        .map(r => r.name)
        .sort();
}

function assertBefore(plan: CapturedPlan, earlier: string, later: string): void {
    const deps = transitiveDependencies(plan, byName(plan, later).id);
    expect({ later, runsAfter: deps.has(byName(plan, earlier).id) }).toEqual({ later, runsAfter: true });
}

describe("the prod environment as shipped: Patroni with etcd on the DB hosts and the witness", () => {
    test("the witness site's host runs an etcd member and nothing of Zabbix; sync replication", async () => {
        const plan = await planExample("prod");
        expect(plan.error).toBeUndefined();
        // It keeps etcd's leader too (the only witness).
        expect(stepsOn(plan, "198.18.30.11")).toEqual([
            "witness-wit-1-packages",
            "witness-wit-1-tls",
            "zabbix-db-wit-1-etcd",
            "zabbix-db-wit-1-etcd-leader",
            "wit-1-firewall-load",
        ]);
        expect(instanceOf(plan).database).toMatchObject({ failover: "automatic", primary: { host: "tyo-db1" } });
        expect(byName(plan, "zabbix-db").inputs).toMatchObject({
            failover: "automatic",
            manager: "patroni",
            replication: "sync",
        });
    });
});

describe("the prod environment's sites (two and a witness) with a manual DB failover", () => {
    let plan: CapturedPlan;
    beforeAll(async () => {
        plan = await planExample("prod", MANUAL_DB_FAILOVER);
        expect(plan.error).toBeUndefined();
    });

    test("one HA node per zabbix-server host, one load balancer per site that needs one", () => {
        const nodes = commands(plan).filter(
            c => c.parent?.endsWith("::zabbix-server") && !c.name.endsWith("failover-delay"),
        );
        expect(nodes.map(c => target(c)).sort()).toEqual(["198.18.10.21", "198.18.20.21"]);
        expect(componentNames(plan, "loadbalancer:SiteLoadBalancer")).toEqual(["osaka-lb", "tokyo-lb"]);
        expect(componentNames(plan, "zabbix:Frontend")).toEqual(["osa-web1-frontend", "tyo-web1-frontend"]);
        expect(componentNames(plan, "host:Site")).toEqual(["osaka", "tokyo", "witness"]);
    });

    test("the primary is in db.primarySite and the replica in the other site, with its own slot", () => {
        const db = instanceOf(plan).database;
        expect(db.primary).toEqual({ host: "tyo-db1", site: "tokyo" });
        expect(db.standbys).toEqual([{ host: "osa-db1", site: "osaka" }]);
        expect(target(byName(plan, "zabbix-db-tyo-db1-promote"))).toBe("198.18.10.11");
        const follow = byName(plan, "zabbix-db-osa-db1-follow");
        expect(target(follow)).toBe("198.18.20.11");
        // The replica makes its slot on the primary as it follows, and drops it when it leaves:
        // a slot lives on one server, so the provider (which reaches whichever is primary) cannot keep it.
        expect(scriptOf(follow)).toContain("CREATE_REPLICATION_SLOT zabbix_ha_osa_db1 PHYSICAL RESERVE_WAL");
        expect(String(follow.inputs.delete)).toContain("DROP_REPLICATION_SLOT zabbix_ha_osa_db1 WAIT");
        expect(ofType(plan, "postgresql:index/physicalReplicationSlot:PhysicalReplicationSlot")).toHaveLength(0);
    });

    test("nothing in a site that should not be there", () => {
        // The witness host gets its base step, its TLS files and its firewall, nothing else.
        expect(stepsOn(plan, "198.18.30.11")).toEqual([
            "witness-wit-1-packages",
            "witness-wit-1-tls",
            "wit-1-firewall-load",
        ]);
        // A frontend host runs no DB or Zabbix server step; a DB host no web or server step.
        expect(stepsOn(plan, "198.18.10.31")).toEqual([
            "tokyo-tyo-web1-packages",
            "tokyo-tyo-web1-tls",
            "tyo-web1-frontend-web",
            "tyo-web1-firewall-load",
        ]);
        // Every DB host carries the same steps whatever its role: moving the primary changes what they do, not which exist.
        expect(stepsOn(plan, "198.18.20.11").sort()).toEqual([
            "osa-db1-firewall-load",
            "osaka-osa-db1-packages",
            "osaka-osa-db1-tls",
            "zabbix-db-osa-db1-config",
            "zabbix-db-osa-db1-follow",
            "zabbix-db-osa-db1-promote",
            "zabbix-db-osa-db1-stand-down",
        ]);
        expect(stepsOn(plan, "198.18.20.41")).toEqual([
            "osaka-osa-lb1-packages",
            "osaka-osa-lb1-tls",
            "osaka-lb-haproxy",
            "osa-lb1-firewall-load",
        ]);
    });

    test("each site's servers and frontends reach the DB through their own site's load balancer", () => {
        expect(scriptOf(byName(plan, "zabbix-server-osa-zbx1"))).toContain("DBHost=198.18.20.41\nDBPort=5433");
        expect(scriptOf(byName(plan, "zabbix-server-tyo-zbx1"))).toContain("DBHost=198.18.10.41\nDBPort=5433");
        expect(scriptOf(byName(plan, "osa-web1-frontend-web"))).toContain("$DB['SERVER']   = '198.18.20.41';");
    });

    test("the provider connects through the primary site's load balancer", () => {
        const provider = byName(plan, "zabbix-db-provider");
        expect(provider.inputs).toMatchObject({ host: "198.18.10.41", port: "5433", username: "zabbix_ha_admin" });
        for (const resource of plan.resources.filter(r => r.type.startsWith("postgresql:index/"))) {
            expect(resource.dependsOn).toContain(provider.id);
        }
    });

    test("the failover delay from config is stored for the cluster", () => {
        expect(scriptOf(byName(plan, "zabbix-server-failover-delay"))).toContain("set ha_failover_delay = '30s'");
    });
});

describe("dependency order (prod, manual DB failover)", () => {
    let plan: CapturedPlan;
    beforeAll(async () => {
        plan = await planExample("prod", MANUAL_DB_FAILOVER);
    });

    test.each([
        ["packages before config", "tokyo-tyo-db1-packages", "zabbix-db-tyo-db1-config"],
        ["packages before the load balancer", "osaka-osa-lb1-packages", "osaka-lb-haproxy"],
        [
            "the old primary stands down before the new one promotes",
            "zabbix-db-osa-db1-stand-down",
            "zabbix-db-tyo-db1-promote",
        ],
        ["the primary before the provider reaches it", "zabbix-db-tyo-db1-promote", "zabbix-db-provider"],
        ["DB before schema", "zabbix-db-database", "zabbix-db-schema"],
        ["the zabbix role before schema", "zabbix-db-zabbix-role", "zabbix-db-schema"],
        ["schema before the failover delay", "zabbix-db-schema", "zabbix-server-failover-delay"],
        ["schema before servers", "zabbix-db-schema", "zabbix-server-osa-zbx1"],
        ["servers before frontends", "zabbix-server-tyo-zbx1", "osa-web1-frontend-web"],
        ["servers in every site before each frontend", "zabbix-server-osa-zbx1", "tyo-web1-frontend-web"],
        ["the replica after the primary", "zabbix-db-tyo-db1-promote", "zabbix-db-osa-db1-follow"],
        [
            "the replica after the replication role it streams as",
            "zabbix-db-replication-role",
            "zabbix-db-osa-db1-follow",
        ],
        // Only implied by an input (the password inside the step's stdin), as the engine orders it.
        ["a password before the step that reads it", "zabbix-ha-admin-password", "zabbix-db-tyo-db1-promote"],
    ])("%s", (_label, earlier, later) => assertBefore(plan, earlier, later));

    test("nothing depends on something that comes later (the graph has no cycle)", () => {
        for (const resource of plan.resources) {
            expect(transitiveDependencies(plan, resource.id).has(resource.id)).toBe(false);
        }
    });

    test("sync replication waits for every replica before commits wait for one", async () => {
        const raw = twoSiteConfig();
        raw.db.replication = "sync";
        const sync = await planConfig(raw);
        const step = byName(sync, "zabbix-db-synchronous");
        expect(scriptOf(step)).toContain(`synchronous_standby_names = 'ANY 1 ("west-1")'`);
        assertBefore(sync, "zabbix-db-west-1-follow", "zabbix-db-synchronous");
        // The promote step itself stays asynchronous: a synchronous primary without a replica blocks.
        expect(scriptOf(byName(sync, "zabbix-db-east-1-promote"))).toContain("synchronous_standby_names = ''");
    });

    test("a switchover is a config change: the other site's host promotes and the old primary follows", async () => {
        const raw = twoSiteConfig();
        raw.db.primarySite = "west";
        const switched = await planConfig(raw);
        expect(target(byName(switched, "zabbix-db-west-1-promote"))).toBe("198.18.2.10");
        expect(scriptOf(byName(switched, "zabbix-db-east-1-follow"))).toContain(
            "primary_conninfo = 'host=198.18.2.10 port=5432",
        );
        assertBefore(switched, "zabbix-db-east-1-stand-down", "zabbix-db-west-1-promote");
    });
});

describe("secrets", () => {
    let plan: CapturedPlan;
    beforeAll(async () => {
        plan = await planExample("dev");
    });

    test("every password comes from @pulumi/random, at least 20 characters", () => {
        const passwords = ofType(plan, RANDOM);
        expect(passwords.map(p => p.name).sort()).toEqual([
            "zabbix-ha-admin-password",
            "zabbix-ha-check-password",
            "zabbix-ha-replication-password",
            "zabbix-ha-super-admin-password",
            "zabbix-ha-zabbix-password",
        ]);
        for (const p of passwords) {
            expect(Number(p.inputs.length)).toBeGreaterThanOrEqual(20);
        }
    });

    test("the SSH key and every password input are secret", () => {
        for (const command of commands(plan)) {
            expect({ name: command.name, secret: command.secretInputs.includes("connection") }).toEqual({
                name: command.name,
                secret: true,
            });
            if (command.inputs.stdin !== undefined) {
                expect({ name: command.name, secret: command.secretInputs.includes("stdin") }).toEqual({
                    name: command.name,
                    secret: true,
                });
            }
        }
        for (const resource of plan.resources.filter(r => r.inputs.password !== undefined)) {
            expect({ name: resource.name, secret: resource.secretInputs.includes("password") }).toEqual({
                name: resource.name,
                secret: true,
            });
        }
    });

    test("no command's logged text contains a secret in clear", () => {
        const secrets = [TEST_SSH_KEY, ...ofType(plan, RANDOM).map(p => String(p.outputs.result))];
        expect(secrets.every(s => s.length >= 20)).toBe(true);
        for (const command of commands(plan)) {
            const text = String(command.inputs.create);
            for (const secret of secrets) {
                expect({ name: command.name, leaks: text.includes(secret) }).toEqual({
                    name: command.name,
                    leaks: false,
                });
            }
        }
    });

    test("secrets reach scripts on stdin, in the order the script reads them", () => {
        const promote = byName(plan, "zabbix-db-tyo-zbx1-promote");
        const [admin, check] = ["admin", "check"].map(role =>
            String(byName(plan, `zabbix-ha-${role}-password`).outputs.result),
        );
        expect(promote.inputs.stdin).toBe(`${admin}\n${check}\n`);
        expect(scriptOf(promote)).toMatch(/IFS= read -r ADMIN_PASSWORD\nIFS= read -r CHECK_PASSWORD\n/);
    });
});

test("the dev environment: two all-in-one hosts, one per site", async () => {
    const plan = await planExample("dev");
    expect(plan.error).toBeUndefined();
    const instance = instanceOf(plan);
    expect(instance.servers.map(s => s.host).sort()).toEqual(["osa-zbx1", "tyo-zbx1"]);
    expect(instance.serverFailover).toBe("native-ha");
    expect(instance.database.primary.host).toBe("tyo-zbx1");
    expect(instance.database.standbys.map(s => s.host)).toEqual(["osa-zbx1"]);
    expect(componentNames(plan, "loadbalancer:SiteLoadBalancer")).toEqual(["osaka-lb", "tokyo-lb"]);
    // The Debian 6.0 schema layout is loaded in its three parts, in order.
    expect(scriptOf(byName(plan, "zabbix-db-schema"))).toContain(
        "'/usr/share/zabbix-server-pgsql/schema.sql.gz' '/usr/share/zabbix-server-pgsql/images.sql.gz' '/usr/share/zabbix-server-pgsql/data.sql.gz'",
    );
});

test("a non-root SSH user runs every step through sudo", async () => {
    const raw = twoSiteConfig();
    raw.sites[1].hosts[0].sshUser = "deploy";
    const plan = await planConfig(raw);
    for (const command of commands(plan)) {
        const viaSudo = String(command.inputs.create).startsWith("sudo -n sh -c ");
        expect({ name: command.name, viaSudo }).toEqual({
            name: command.name,
            viaSudo: target(command) === "198.18.2.10",
        });
    }
});
