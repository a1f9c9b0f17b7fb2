/**
 * Manual DB failover as plans: moving the primary changes what each DB host's steps do, never which
 * steps exist (so nothing must be created on, or deleted from, a host that cannot be reached); the
 * old primary hands over without losing a commit; a lost site holds nothing back; every step that
 * starts something carries the delete that undoes it.
 */
import { ConfigError } from "../../components/config";
import { HANDOVER_MARK_SQL, replayedUpToSql } from "../../components/postgres/steps";
import { shellQuote } from "../../components/shell";
import { CapturedPlan, transitiveDependencies } from "../../tools/offline/capture";
import { byName, commands, planConfig, scriptOf, target, twoSiteConfig } from "../support/plan";

/** Names of the plan's remote steps, sorted. */
const stepNames = (plan: CapturedPlan) =>
    commands(plan)
        .map(c => c.name)
        .sort();

function withPrimary(site: string, patch: (raw: Record<string, any>) => void = () => undefined): Record<string, any> {
    const raw = twoSiteConfig();
    raw.db.primarySite = site;
    patch(raw);
    return raw;
}

describe("moving the primary (db.primarySite)", () => {
    let east: CapturedPlan;
    let west: CapturedPlan;
    beforeAll(async () => {
        east = await planConfig(withPrimary("east"));
        west = await planConfig(withPrimary("west"));
    });

    test("changes what the DB hosts' steps do, never which steps exist", () => {
        expect(stepNames(west)).toEqual(stepNames(east));
        for (const host of ["east-1", "west-1"]) {
            for (const step of ["config", "stand-down", "promote", "follow"]) {
                expect(target(byName(west, `zabbix-db-${host}-${step}`))).toBe(
                    target(byName(east, `zabbix-db-${host}-${step}`)),
                );
            }
        }
    });

    test("the old primary hands over to the new one without losing a commit, then can only start as a standby", () => {
        const standDown = scriptOf(byName(west, "zabbix-db-east-1-stand-down"));
        expect(standDown).toContain("default_transaction_read_only = on");
        // The target is a record written for the hand-over, which only a replica streaming now can replay.
        expect(standDown).toContain(`zha_target=$(zha_sql -c ${shellQuote(HANDOVER_MARK_SQL)})`);
        expect(standDown).toContain(replayedUpToSql("west-1", "$zha_target"));
        // It stops only once west-1 has replayed the last commit, and leaves the data a standby's.
        const handOver = standDown.slice(standDown.indexOf("handing over without losing a commit"));
        expect(handOver.indexOf("zha_retry 120 zha_caught_up")).toBeGreaterThan(0);
        expect(handOver.indexOf("zha_retry 120 zha_caught_up")).toBeLessThan(
            handOver.indexOf('systemctl stop "$PG_SERVICE"'),
        );
        expect(standDown).toContain('touch "$PGDATA_DIR/standby.signal"');
        // On the configured primary the stand-down does nothing; there the promote step works.
        expect(scriptOf(byName(west, "zabbix-db-west-1-stand-down"))).toContain("nothing to stand down");
        expect(scriptOf(byName(west, "zabbix-db-west-1-promote"))).toContain("pg_promote(true, 60)");
        expect(scriptOf(byName(west, "zabbix-db-east-1-promote"))).toContain("nothing to promote");
        expect(scriptOf(byName(west, "zabbix-db-east-1-follow"))).toContain(
            "primary_conninfo = 'host=198.18.2.10 port=5432",
        );
    });

    test("a host the fence found superseded is never promoted", () => {
        expect(scriptOf(byName(east, "zabbix-db-east-1-promote"))).toMatch(
            /if \[ "\$\(zha_mark\)" = superseded \]; then\n {2}echo "not promoting/,
        );
    });

    test("the base step never starts a PostgreSQL that would come up writable on a host that is not the configured primary", () => {
        const replica = scriptOf(byName(west, "zabbix-db-east-1-config"));
        expect(replica).toMatch(
            /elif \[ -f "\$PGDATA_DIR\/standby.signal" \]; then\n {2}systemctl start "\$PG_SERVICE"\nelse\n {2}echo "not starting PostgreSQL/,
        );
        expect(scriptOf(byName(west, "zabbix-db-west-1-config"))).not.toContain("not starting PostgreSQL");
    });

    test("every DB host carries the fence, which asks the other DB hosts as the check role", () => {
        for (const [host, peer] of [
            ["east-1", "198.18.2.10"],
            ["west-1", "198.18.1.10"],
        ]) {
            const config = scriptOf(byName(west, `zabbix-db-${host}-config`));
            expect(config).toContain(`PEERS='${peer}:5432'`);
            expect(config).toContain("ExecStartPre=+/usr/local/libexec/zabbix-ha/pg-fence boot");
            expect(config).toContain("systemctl enable --now zabbix-ha-pg-fence.service");
            expect(config).toMatch(/hostssl +postgres +zabbix_ha_check +198\.18\.1\.10\/32/);
            expect(config).toMatch(/hostssl +postgres +zabbix_ha_check +198\.18\.2\.10\/32/);
        }
    });

    test("the load balancers list the configured primary first, every DB server in maintenance until the watcher decides", () => {
        for (const [plan, first, second] of [
            [east, "east-1 198.18.1.10", "west-1 198.18.2.10"],
            [west, "west-1 198.18.2.10", "east-1 198.18.1.10"],
        ] as const) {
            const haproxy = scriptOf(byName(plan, "east-lb-haproxy"));
            const section = /listen postgres_primary\n([\s\S]*?)\nZHA_EOF/.exec(haproxy)?.[1] ?? "";
            expect(section).toContain("balance first");
            expect(
                section
                    .split("\n")
                    .map(l => l.trim())
                    .filter(l => l.startsWith("server ")),
            ).toEqual([`server ${first}:5432 check disabled`, `server ${second}:5432 check disabled`]);
            const [a, b] = [first, second].map(s => s.replace(" ", "="));
            expect(haproxy).toContain(`SERVERS='${a}:5432 ${b}:5432'`);
        }
    });
});

describe("a lost site (sites[i].lost)", () => {
    test("cannot hold the primary: the config error names the path", async () => {
        const raw = withPrimary("east", r => {
            r.sites[0].lost = true;
        });
        const plan = await planConfig(raw);
        expect(plan.error).toBeInstanceOf(ConfigError);
        expect((plan.error as ConfigError).problems.map(p => p.path)).toEqual(["db.primarySite"]);
    });

    test("keeps the cluster-wide failover delay on a host pulumi up can reach", async () => {
        const lost = await planConfig(
            withPrimary("west", r => {
                r.sites[0].lost = true;
            }),
        );
        expect(lost.error).toBeUndefined();
        expect(target(byName(lost, "zabbix-server-failover-delay"))).toBe("198.18.2.10");
        // With both sites reachable, the first node by name carries it.
        expect(target(byName(await planConfig(withPrimary("west")), "zabbix-server-failover-delay"))).toBe(
            "198.18.1.10",
        );
    });
});

describe("every step that starts something carries the delete that undoes it", () => {
    let plan: CapturedPlan;
    beforeAll(async () => {
        plan = await planConfig(withPrimary("east"));
    });

    test("a removed Zabbix node stops for good, and the active node's watcher removes it from ha_node", () => {
        const removal = scriptOf(byName(plan, "zabbix-server-west-1"), "delete");
        expect(removal).toContain("systemctl disable --now zabbix-server");
        // It runs last, when the hba rules may no longer admit it: it asks nothing of the database.
        expect(removal).not.toMatch(/psql|ha_node where/);
        // Every remaining node's watcher knows the cluster and removes any other stopped or unavailable row.
        const node = scriptOf(byName(plan, "zabbix-server-east-1"));
        expect(node).toContain("status in (1, 2) and name not in ('\\''east-1'\\'', '\\''west-1'\\'')");
        expect(node).toContain("zabbix_server -c '/etc/zabbix/zabbix_server.conf' -R \"ha_remove_node=$node\"");
    });

    test("a removed replica stops for good and drops its slot on the primary; a removed DB host stops its PostgreSQL", () => {
        const follow = scriptOf(byName(plan, "zabbix-db-west-1-follow"), "delete");
        expect(follow).toContain('systemctl disable --now "$PG_SERVICE"');
        expect(follow).toContain("DROP_REPLICATION_SLOT zabbix_ha_west_1 WAIT");
        expect(scriptOf(byName(plan, "zabbix-db-west-1-config"), "delete")).toContain(
            "systemctl disable --now zabbix-ha-pg-fence.service",
        );
        // The primary's follow step does nothing, and so undoes nothing.
        expect(byName(plan, "zabbix-db-east-1-follow").inputs.delete).toBeUndefined();
    });
});

describe("rotating a generated password (db.passwordRotation)", () => {
    test("raising a count replaces that password only, where the engine would (its keepers change)", async () => {
        const before = await planConfig(twoSiteConfig());
        const raw = twoSiteConfig();
        raw.db.passwordRotation = { zabbix: 1 };
        const after = await planConfig(raw);
        const keepers = (plan: CapturedPlan, role: string) => byName(plan, `zabbix-ha-${role}-password`).inputs.keepers;
        expect(keepers(before, "zabbix")).toBeUndefined();
        expect(keepers(after, "zabbix")).toEqual({ rotation: "1" });
        for (const role of ["admin", "check", "replication"]) {
            expect(keepers(after, role)).toBeUndefined();
        }
    });

    test("a count that is not a whole number, or an unknown role, is a config error naming the path", async () => {
        const raw = twoSiteConfig();
        raw.db.passwordRotation = { zabbix: -1, root: 2 };
        const plan = await planConfig(raw);
        expect((plan.error as ConfigError).problems.map(p => p.path).sort()).toEqual([
            "db.passwordRotation.root",
            "db.passwordRotation.zabbix",
        ]);
    });
});

test("a server node, and the failover delay set from one, run after their own site's load balancer is configured", async () => {
    const raw = twoSiteConfig();
    raw.sites.push({
        name: "aaa",
        network: "198.18.4.0/24",
        hosts: [{ name: "aaa-1", address: "198.18.4.10", roles: ["zabbix-server", "frontend", "lb"] }],
    });
    const plan = await planConfig(raw);
    // aaa-1 sorts first, so it carries the failover delay; a new site's balancer must come before it.
    expect(target(byName(plan, "zabbix-server-failover-delay"))).toBe("198.18.4.10");
    const deps = (name: string) => transitiveDependencies(plan, byName(plan, name).id);
    expect(deps("zabbix-server-failover-delay").has(byName(plan, "aaa-lb-haproxy").id)).toBe(true);
    expect(deps("zabbix-server-aaa-1").has(byName(plan, "aaa-lb-haproxy").id)).toBe(true);
});
