import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { DbHostFacts, PATRONI, Placed, SelfRunDatabaseFacts } from "../facts";
import { Host } from "../host";
import { patroniLayout, platformFor } from "../platform";
import { SelfRunDatabaseArgs, loadSchema, selfRunDatabaseObjects } from "./database";
import { PATRONI_TLS } from "./clusterTls";
import { EtcdMember } from "./etcdEnvironment";
import { etcdLeaderKeeper } from "./etcdLeaderKeep";
import {
    etcdHealthyStep,
    etcdLeaderKeeperStep,
    etcdLeaderKeeperStepDelete,
    etcdStep,
    etcdStepDelete,
    patroniStep,
    patroniStepDelete,
    patroniSettingsStep,
    patroniSwitchoverStep,
} from "./patroniSteps";
import { DbPasswords } from "./passwords";
import { patroniRestAllowlist } from "./patroniYml";
import { DbHostFiles, leaderRolesStep } from "./steps";
import { HOST_SERVER_TLS } from "./tls";

/**
 * PatroniClusterArgs describe a Zabbix database whose primary Patroni moves by itself.
 */
export interface PatroniClusterArgs extends SelfRunDatabaseArgs {
    /** Witness hosts: etcd members only, so that a majority survives the loss of one DB site. */
    readonly witnesses: readonly Host[];
    /** Patroni's synchronous mode: commits wait for one replica, and only a synchronous one is promoted. */
    readonly synchronous: boolean;
    /**
     * Passwords of the roles, with Patroni's superuser and the REST API's unsafe endpoints
     * (PATRONI_REST_USER); Pulumi secrets.
     */
    readonly passwords: DbPasswords & {
        readonly superuser: pulumi.Output<string>;
        readonly restApi: pulumi.Output<string>;
    };
    /** Who calls the REST API's unsafe endpoints besides the DB hosts (patroniRestAllowlist): load balancers' addresses, db.adminNetwork. */
    readonly restApiClients: { readonly loadBalancers: readonly string[]; readonly adminNetwork: string };
}

/**
 * PatroniCluster runs the Zabbix database under Patroni with etcd across three or more sites: when
 * the primary's host or site is lost, a replica that still reaches a majority of etcd is promoted
 * within Patroni's TTL, and the load balancers follow it through Patroni's REST API.
 */
export class PatroniCluster extends pulumi.ComponentResource {
    /** The schema step: Zabbix servers start after it. */
    public readonly schemaLoaded: command.remote.Command;
    /** What it declares: where the primary, its replicas and etcd's members sit, and that Patroni promotes. */
    public readonly facts: SelfRunDatabaseFacts;

    constructor(name: string, args: PatroniClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const fact = (h: Host): Placed => ({ host: h.config.name, site: h.config.site, address: h.config.address });
        const keeperName = etcdLeaderKeeper(args.witnesses.map(h => h.config.name));
        const keeper = args.witnesses.find(h => h.config.name === keeperName);
        const dbHost = (h: Host): DbHostFacts => ({ ...fact(h), port: args.port });
        const facts: SelfRunDatabaseFacts = {
            primary: dbHost(args.primary),
            replicas: args.replicas.map(dbHost),
            // Who decides (Patroni, by etcd's majority), and where etcd's members sit.
            failover: "automatic",
            manager: "patroni",
            quorum: [args.primary, ...args.replicas, ...args.witnesses].map(fact),
            replication: args.synchronous ? "sync" : "async",
            ...(keeper ? { quorumLeader: fact(keeper) } : {}),
        };
        super(PATRONI.token, name, facts, opts);
        this.facts = facts;
        const byName = (a: Host, b: Host) => a.config.name.localeCompare(b.config.name);
        const dbHosts = [args.primary, ...[...args.replicas].sort(byName)];
        // In name order: the members' settings must not change with db.primarySite (every member would restart at once).
        const memberHosts = [...dbHosts, ...args.witnesses].sort(byName);
        const members: EtcdMember[] = memberHosts.map(h => ({ name: h.config.name, address: h.config.address }));

        // One member after another: a change of etcd's settings restarts one member at a time, each
        // healthy again before the next (etcdStep), so etcd keeps its quorum and Patroni its leader.
        const etcd: command.remote.Command[] = [];
        for (const host of memberHosts) {
            const member = { name: host.config.name, address: host.config.address };
            etcd.push(
                host.step(
                    `${name}-${host.config.name}-etcd`,
                    { script: etcdStep(member, members, `${name}-etcd`), delete: etcdStepDelete(member, members) },
                    { parent: this, dependsOn: etcd.slice(-1) },
                ),
            );
        }
        const quorum = args.primary.step(
            `${name}-etcd-healthy`,
            { script: etcdHealthyStep(members) },
            { parent: this, dependsOn: etcd },
        );
        if (keeper) {
            const kept = members.find(m => m.name === keeper.config.name)!;
            keeper.step(
                `${name}-${keeper.config.name}-etcd-leader`,
                { script: etcdLeaderKeeperStep(kept, members), delete: etcdLeaderKeeperStepDelete() },
                { parent: this, dependsOn: [quorum] },
            );
        }

        const secrets = [
            { variable: "SUPERUSER_PASSWORD", value: args.passwords.superuser },
            { variable: "REPLICATION_PASSWORD", value: args.passwords.replication },
            { variable: "REST_API_PASSWORD", value: args.passwords.restApi },
        ];
        const restApi = {
            passwordVariable: "REST_API_PASSWORD",
            allowlist: patroniRestAllowlist({ dbHosts: dbHosts.map(h => h.config.address), ...args.restApiClients }),
        };
        const patroniOn = (host: Host, leader: boolean, after: readonly pulumi.Resource[]) => {
            const platform = platformFor(host.config.os);
            return host.step(
                `${name}-${host.config.name}-patroni`,
                {
                    script: patroniStep({
                        platform,
                        leader,
                        scope: name,
                        name: host.config.name,
                        address: host.config.address,
                        port: args.port,
                        tls: PATRONI_TLS,
                        restApi,
                        etcdHosts: members.map(m => m.address),
                        dataDir: patroniLayout(platform).dataDir,
                        binDir: platform.postgres.binDir,
                        pgpass: `${platform.postgres.home}/.pgpass.patroni`,
                        synchronous: args.synchronous,
                        maxConnections: args.maxConnections,
                        hba: args.hbaRules,
                        rewindSources: [...dbHosts].sort(byName).map(h => h.config.address),
                        superuserPasswordVariable: "SUPERUSER_PASSWORD",
                        replicationPasswordVariable: "REPLICATION_PASSWORD",
                    }),
                    secrets,
                    delete: patroniStepDelete(platform),
                },
                { parent: this, dependsOn: [...after] },
            );
        };
        // The planned leader starts first and bootstraps the cluster; the others join it as replicas.
        const leader = patroniOn(args.primary, true, [quorum]);
        const streaming: Record<string, command.remote.Command> = {};
        for (const host of dbHosts.slice(1)) {
            streaming[host.config.name] = patroniOn(host, false, [leader]);
        }

        const files = (host: Host): DbHostFiles => ({
            platform: platformFor(host.config.os),
            port: args.port,
            conf: {
                listenAddresses: [host.config.address],
                port: args.port,
                maxConnections: args.maxConnections,
                tls: HOST_SERVER_TLS,
            },
            hba: args.hbaRules,
        });
        // The cluster-wide settings a running cluster keeps in etcd, before a switchover that depends on synchronous mode.
        const settings = args.primary.step(
            `${name}-settings`,
            {
                script: patroniSettingsStep({
                    platform: platformFor(args.primary.config.os),
                    synchronous: args.synchronous,
                }),
            },
            { parent: this, dependsOn: [leader, ...Object.values(streaming)] },
        );
        const switchover = args.primary.step(
            `${name}-switchover`,
            {
                script: patroniSwitchoverStep({
                    platform: platformFor(args.primary.config.os),
                    name: args.primary.config.name,
                    address: args.primary.config.address,
                    synchronous: args.synchronous,
                }),
            },
            { parent: this, dependsOn: [settings] },
        );
        // The admin and check roles on the leader, once db.primarySite's host leads.
        const primaryReady = args.primary.step(
            `${name}-${args.primary.config.name}-roles`,
            {
                script: leaderRolesStep(files(args.primary)),
                secrets: [
                    { variable: "ADMIN_PASSWORD", value: args.passwords.admin },
                    { variable: "CHECK_PASSWORD", value: args.passwords.check },
                ],
            },
            { parent: this, dependsOn: [switchover] },
        );

        // The admin endpoint follows Patroni's leader.
        const objects = selfRunDatabaseObjects(
            this,
            name,
            args.adminEndpoint,
            primaryReady,
            args.passwords,
            args,
            args.primary.caCertPem,
        );
        this.schemaLoaded = loadSchema(this, name, args.schema, objects, { ...args, password: args.passwords.zabbix });

        this.registerOutputs({
            primary: args.primary.config.name,
            replicas: args.replicas.map(h => h.config.name),
            database: objects.database.name,
        });
    }
}
