/**
 * Resources for the policy tests, built by hand as the rules see them, and the plans of the
 * shipped stack files: each case changes one of these so that exactly one rule should object.
 */
import * as path from "path";
import { POLICIES } from "../../policies/rules";
import { ResourceInput, Violation, runPolicy } from "../../policies/harness";
import { DRBD_PAIR, FRONTEND, HOST, LOAD_BALANCER, POSTGRES, SERVER_CLUSTER } from "../../components/facts";
import { sizeServer } from "../../components/sizing";
import { readEnvironment } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { ROOT, TEST_SSH_KEY } from "../support/plan";

/** A rule of the pack. */
export type Policy = (typeof POLICIES)[number];

/** Plans a stack file (optionally as another pattern) and returns its resources as the rules see them. */
export async function resourcesOf(file: string, pattern?: string): Promise<ResourceInput[]> {
    const plan = await planEnvironment(readEnvironment(file), {
        placeholderSecrets: true,
        secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
        overrides: pattern ? { "zabbix-ha:pattern": pattern } : {},
    });
    if (plan.error) {
        throw plan.error;
    }
    return plan.resources
        .filter(r => r.type !== "pulumi:pulumi:Stack")
        .map(r => ({ type: r.type, name: r.name, props: r.inputs }));
}

/** A stack file of test/fixtures. */
export const fixture = (name: string) => path.join(ROOT, "test", "fixtures", name);
/** The shipped production stack file. */
export const PROD = path.join(ROOT, "Pulumi.prod.yaml");
/** Rules this test file has run through `violations`. */
export const covered = new Set<string>();

/** Runs one rule over the resources and records that it was run. */
export async function violations(policy: Policy, resources: ResourceInput[]): Promise<Violation[]> {
    covered.add(policy.name);
    return runPolicy(policy, resources);
}

/** A node placed on a host in a site at an address. */
export const at = (host: string, site: string, address: string) => ({ host, site, address });
/** A two-site native-HA Zabbix server cluster that every server rule accepts; `patch` overrides its props. */
export const servers = (patch: Record<string, unknown> = {}): ResourceInput => {
    const load = { monitoredHosts: 100, items: 10_000, updateIntervalSeconds: 60 };
    return {
        type: SERVER_CLUSTER.token,
        name: "zabbix-server",
        props: {
            nodes: [
                { ...at("zbx-a", "a", "198.18.1.21"), dbHost: "198.18.1.41", dbPort: 5433 },
                { ...at("zbx-b", "b", "198.18.2.21"), dbHost: "198.18.2.41", dbPort: 5433 },
            ],
            failover: "native-ha",
            failoverDelaySeconds: 30,
            sizing: { ...sizeServer(load) },
            load,
            agentSettings: { Server: "198.18.1.21,198.18.2.21", ServerActive: "198.18.1.21:10051;198.18.2.21:10051" },
            ...patch,
        },
    };
};
/** A DB host: PostgreSQL on port 5432. */
export const dbAt = (host: string, site: string, address: string) => ({ ...at(host, site, address), port: 5432 });
/** A PostgreSQL primary in site a with a replica in site b, manual failover; `patch` overrides its props. */
export const postgres = (patch: Record<string, unknown> = {}): ResourceInput => ({
    type: POSTGRES.token,
    name: "zabbix-db",
    props: {
        primary: dbAt("db-a", "a", "198.18.1.11"),
        replicas: [dbAt("db-b", "b", "198.18.2.11")],
        failover: "manual",
        replication: "async",
        ...patch,
    },
});
/** A site's load balancer whose DB port (5433) asks each DB host pg_is_in_recovery(). */
export const loadBalancer = (host: string, site: string, address: string): ResourceInput => ({
    type: LOAD_BALANCER.token,
    name: `${site}-lb`,
    props: {
        ...at(host, site, address),
        dbRouting: "primary-check",
        dbPort: 5433,
        dbServers: ["db-a", "db-b"],
        localFrontends: [],
        remoteFrontends: [],
    },
});
/** A frontend of a site and the DB endpoint it uses. */
export const frontend = (host: string, site: string, dbHost: string, dbPort: number): ResourceInput => ({
    type: FRONTEND.token,
    name: `${host}-frontend`,
    props: { host, site, dbHost, dbPort },
});
/** A host of a site with its roles. */
export const host = (name: string, site: string, roles: string[]): ResourceInput => ({
    type: HOST.token,
    name: `${site}-${name}`,
    props: { host: name, site, address: "198.18.9.9", roles },
});
/** A remote command run on a host. */
export const command = (name: string, create: string, address = "198.18.1.21"): ResourceInput => ({
    type: "command:remote:Command",
    name,
    props: { create, connection: { host: address } },
});
/** A DRBD + Pacemaker pair in site a with fencing, a VIP and a dedicated meta-disk; `patch` overrides its props. */
export const pair = (patch: Record<string, unknown> = {}): ResourceInput => ({
    type: DRBD_PAIR.token,
    name: "zabbix-pair",
    props: {
        nodes: [at("n1", "a", "198.18.1.11"), at("n2", "a", "198.18.1.12")],
        vip: "198.18.1.100",
        fencing: { enabled: true, agent: "fence_ipmilan", devices: ["n1", "n2"] },
        disk: "/dev/vg0/data",
        metaDisk: "/dev/vg0/md",
        ...patch,
    },
});
