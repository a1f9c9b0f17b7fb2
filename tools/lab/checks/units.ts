/**
 * The systemd units each role of a host runs, named as the components install them (the platform's
 * names): what `status` lists and what the drills wait for before calling the lab whole.
 */
import { OsFamily, PackageSource, Role } from "../../../components/config";
import { NEWEST_PRIMARY_UNIT } from "../../../components/loadbalancer/primaryCheck";
import { patroniLayout, platformFor, zabbixLayout } from "../../../components/platform";
import { ETCD_LEADER_UNIT } from "../../../components/postgres/etcdLeaderUnit";
import { FENCE_UNIT } from "../../../components/postgres/fence";

export interface UnitsOptions {
    /** Under db.failover patroni, Patroni runs PostgreSQL (the distribution's cluster unit stays down) and etcd runs beside it and on witnesses. */
    readonly failover: "manual" | "patroni";
    readonly packageSource: PackageSource;
    /** Manual failover across sites: every DB host runs the fence, every load balancer the newest-primary watcher (never with Patroni). */
    readonly fenced?: boolean;
    /** Under Patroni, the witness that keeps etcd's leader (the plan's quorumLeader): it runs the keeper too. */
    readonly etcdLeaderKeeper?: string;
}

/** The units a host's roles run. */
export function unitsOf(
    host: { readonly name: string; readonly os: OsFamily; readonly roles: readonly Role[] },
    options: UnitsOptions,
): string[] {
    const platform = platformFor(host.os);
    const patroni = options.failover === "patroni";
    const fenced = !patroni && options.fenced === true;
    return [
        ...new Set(
            host.roles.flatMap(role => {
                switch (role) {
                    case "db":
                        return patroni
                            ? [patroniLayout(platform).service, "etcd"]
                            : [platform.postgres.service, ...(fenced ? [FENCE_UNIT] : [])];
                    case "zabbix-server":
                        return [zabbixLayout(platform, options.packageSource).serverService];
                    case "frontend":
                        return ["nginx", platform.phpFpm.service];
                    case "lb":
                        return ["haproxy", ...(fenced ? [NEWEST_PRIMARY_UNIT] : [])];
                    case "witness":
                        return patroni
                            ? ["etcd", ...(host.name === options.etcdLeaderKeeper ? [ETCD_LEADER_UNIT] : [])]
                            : [];
                    case "proxy":
                        return [zabbixLayout(platform, options.packageSource).proxy.service];
                    case "agent":
                        return [zabbixLayout(platform, options.packageSource).agent.service];
                }
            }),
        ),
    ];
}
