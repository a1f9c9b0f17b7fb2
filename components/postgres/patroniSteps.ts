/**
 * Pure step scripts of the Patroni cluster (db.failover: patroni): etcd's members, Patroni on each DB
 * host, the wait for a healthy etcd, and the planned switchover to db.primarySite. Each is safe to run again.
 */
import { posix } from "path";
import { PATRONI_MINIMUM_VERSION, Platform, patroniLayout } from "../platform";
import { installWatcher, putFile, putSecretFile, removeWatcher, shellQuote } from "../shell";
import { ROOT_TLS, curlTls, etcdctlTls } from "./clusterTls";
import {
    ETCD_CLIENT_PORT,
    ETCD_DATA_DIR,
    ETCD_ENVIRONMENT_FILE,
    ETCD_SCHEME,
    EtcdMember,
    renderEtcdEnvironment,
} from "./etcdEnvironment";
import { ETCD_LEADER_KEEP_SCRIPT, renderEtcdLeaderKeepScript } from "./etcdLeaderKeep";
import { ETCD_LEADER_UNIT, renderEtcdLeaderUnit } from "./etcdLeaderUnit";
import {
    MAXIMUM_LAG_ON_FAILOVER,
    PATRONI_REST_PORT,
    PatroniInput,
    patroniClusterSettings,
    renderPatroniConfig,
} from "./patroniYml";
import { renderManualStartConf } from "./startConf";

/** The client URL of an etcd member, as Patroni and etcdctl reach it. */
export const etcdClientUrl = (m: EtcdMember) => `${ETCD_SCHEME}://${m.address}:${ETCD_CLIENT_PORT}`;

/** etcdctl (API v3, etcd 3.4's default) as root on a stack host: verifies the members and presents the host's certificate. */
export const ETCDCTL = `etcdctl ${etcdctlTls(ROOT_TLS)}`;

/** curl of Patroni's REST API as root on a stack host: verifies it and presents the host's certificate. */
export const PATRONI_CURL = `curl ${curlTls(ROOT_TLS)}`;

/**
 * An etcd member's step: its settings, and a start that does not wait for a quorum not yet formed.
 * The members' steps run one after another (PatroniCluster chains them); a member of a cluster
 * that already runs waits until it is healthy again after its restart, so a change of etcd's
 * settings restarts one member at a time and the quorum stays.
 *
 * A member that already ran with plain-HTTP peer URLs is refused: etcd keeps each member's
 * advertised peer URLs in the cluster's membership (the settings' INITIAL_* are read only when a
 * data dir is created), and a member restarted with https peers while the others still dial it,
 * and listen, over http loses its peers. Switching an existing cluster to TLS is an operator's
 * two steps, done once (etcd's "update advertise peer URLs": a member update, then a restart):
 * 1. `patronictl pause` (Patroni then neither demotes nor promotes while etcd changes), then on
 *    each member in turn: `etcdctl member update <id> --peer-urls=https://ADDRESS:2380`, write the
 *    rendered /etc/default/etcd (this step's file), restart etcd, wait for `endpoint health`;
 * 2. `pulumi up` (this step then passes; Patroni's step writes patroni.yml with etcd over https and
 *    its REST API over TLS, then restart Patroni on each DB host), then `patronictl resume`.
 * Or, simpler where a short write outage is acceptable: stop Patroni everywhere, stop etcd, move
 * every member's data dir aside, and run `pulumi up` (a new etcd; Patroni writes its keys anew).
 */
export function etcdStep(member: EtcdMember, members: readonly EtcdMember[], clusterToken: string): string {
    return [
        etcdPlainPeersGuard(),
        // Whether this member already belongs to a running cluster (then it waits for its health).
        `if [ -d ${ETCD_DATA_DIR}/member ]; then zha_member=1; else zha_member=0; fi`,
        putFile(ETCD_ENVIRONMENT_FILE, renderEtcdEnvironment(member, members, clusterToken), "0644", "root:root"),
        "systemctl enable etcd",
        // The first member of a new cluster would wait for the others forever: start without blocking, check health later.
        `if [ "$ZHA_CHANGED" = 1 ] || ! systemctl is-active --quiet etcd; then systemctl restart --no-block etcd; zha_restarted=1; else zha_restarted=0; fi`,
        `if [ "$zha_member" = 1 ] && [ "$zha_restarted" = 1 ]; then zha_retry 60 ${ETCDCTL} --endpoints=${etcdClientUrl(member)} --dial-timeout=2s endpoint health >/dev/null; fi`,
    ].join("\n");
}

/** Stops an etcd step on a member that already ran with plain-HTTP peers (see etcdStep why, and the way over). */
export function etcdPlainPeersGuard(environmentFile = ETCD_ENVIRONMENT_FILE, dataDir = ETCD_DATA_DIR): string {
    return `if [ -d ${shellQuote(`${dataDir}/member`)} ] && grep -q '^ETCD_LISTEN_PEER_URLS="http://' ${shellQuote(environmentFile)} 2>/dev/null; then
  echo "etcd on this host runs a cluster with plain-HTTP peers: switching it to TLS in place would cut its members apart; switch it as the comment of etcdStep (components/postgres/patroniSteps.ts) says, then run pulumi up again" >&2
  exit 1
fi`;
}

/**
 * Undoes an etcd member (its host leaves the stack, or no longer carries db or witness): it leaves
 * the cluster first, so the majority is counted among the members that stay, then stops for good;
 * its data directory is moved aside (a member that left must never come back with its old identity).
 */
export function etcdStepDelete(member: EtcdMember, members: readonly EtcdMember[]): string {
    const others = members
        .filter(m => m.name !== member.name)
        .map(etcdClientUrl)
        .join(",");
    return `ETCDCTL_API=3
export ETCDCTL_API
echo "etcd member ${member.name} leaves the cluster"
zha_id=$(${ETCDCTL} --endpoints=${others} --dial-timeout=2s member list 2>/dev/null | awk -F', ' '$3 == "${member.name}" { print $1 }')
if [ -n "$zha_id" ]; then ${ETCDCTL} --endpoints=${others} --dial-timeout=2s member remove "$zha_id"; fi
systemctl disable --now etcd
if [ -d ${ETCD_DATA_DIR} ]; then mv ${ETCD_DATA_DIR} "${ETCD_DATA_DIR}.removed-$(date +%Y%m%d%H%M%S)"; fi`;
}

/** Undoes a DB host's Patroni: it stops for good (Patroni's other members carry on; its data stays). */
export function patroniStepDelete(platform: Platform): string {
    const layout = patroniLayout(platform);
    return `echo "this host leaves the Patroni cluster: stopping Patroni (and its PostgreSQL) for good; its data stays in ${layout.dataDir}"
systemctl disable --now ${layout.service}`;
}

/** Waits until etcd has a healthy majority. */
export function etcdHealthyStep(members: readonly EtcdMember[]): string {
    const endpoints = members.map(etcdClientUrl).join(",");
    return `ETCDCTL_API=3
export ETCDCTL_API
zha_retry 120 ${ETCDCTL} --endpoints=${endpoints} --dial-timeout=2s endpoint status >/dev/null`;
}

/** On the witness that keeps etcd's leader (etcdLeaderKeep.ts): the keeper's script and unit, running. */
export function etcdLeaderKeeperStep(keeper: EtcdMember, members: readonly EtcdMember[]): string {
    return [
        installWatcher({
            script: ETCD_LEADER_KEEP_SCRIPT,
            scriptText: renderEtcdLeaderKeepScript({
                endpoints: members.map(etcdClientUrl),
                ownEndpoint: etcdClientUrl(keeper),
                tls: ROOT_TLS,
            }),
            unit: ETCD_LEADER_UNIT,
            unitText: renderEtcdLeaderUnit(),
        }),
        `echo "etcd's leader is kept on ${keeper.name}"`,
    ].join("\n");
}

/** Undoes the keeper (its witness left, or another witness keeps the leader now): etcd's leader stays where it is. */
export function etcdLeaderKeeperStepDelete(): string {
    return removeWatcher({ script: ETCD_LEADER_KEEP_SCRIPT, unit: ETCD_LEADER_UNIT });
}

/** Patroni's REST API on a DB host: TLS only. */
export const patroniRestUrl = (address: string, port = PATRONI_REST_PORT) => `https://${address}:${port}`;

export interface PatroniStepInput extends PatroniInput {
    readonly platform: Platform;
    /** Whether this node should lead at first (db.primarySite); the others join as replicas. */
    readonly leader: boolean;
}

/** A DB host's Patroni step: the distribution's own cluster stays down, Patroni runs PostgreSQL. */
export function patroniStep(p: PatroniStepInput): string {
    const layout = patroniLayout(p.platform);
    const role = p.leader ? "primary" : "replica";
    // Debian's postgresql.service starts every cluster whose start.conf says "auto" at boot (a generator
    // makes the unit enabled-runtime), so `disable` alone does not keep it down: after a reboot it would
    // hold port 5432 and the socket lock, and Patroni's PostgreSQL would not start (found in the lab).
    const startConf =
        p.platform.packageManager === "apt"
            ? [
                  putFile(
                      `${p.platform.postgres.configDir}/start.conf`,
                      renderManualStartConf(),
                      "0644",
                      "postgres:postgres",
                  ),
                  `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; fi`,
              ]
            : [];
    const rest = patroniRestUrl(p.address, p.restPort);
    return [
        patroniVersionGuard(),
        `PG_SERVICE=${shellQuote(p.platform.postgres.service)}`,
        ...startConf,
        // Debian starts its own cluster on install; Patroni runs a cluster of its own in another directory.
        `if systemctl is-enabled --quiet "$PG_SERVICE" 2>/dev/null || systemctl is-active --quiet "$PG_SERVICE"; then systemctl disable --now "$PG_SERVICE"; fi`,
        `mkdir -p ${shellQuote(posix.dirname(layout.config))}`,
        putSecretFile(
            layout.config,
            p.superuserPasswordVariable,
            "0600",
            "postgres:postgres",
            renderPatroniConfig(p).trimEnd(),
        ),
        `install -d -o postgres -g postgres -m 0700 ${shellQuote(p.dataDir)}`,
        `systemctl enable ${layout.service}`,
        // A running Patroni older than the installed one (the package step just upgraded it) keeps the old code until restarted.
        `zha_running=$(${PATRONI_CURL} -fsS ${rest}/patroni 2>/dev/null | sed -n 's/.*"version": *"\\([^"]*\\)".*/\\1/p')`,
        `if ! systemctl is-active --quiet ${layout.service}; then systemctl start ${layout.service}; ` +
            `elif [ -n "$zha_running" ] && [ "$zha_running" != "$zha_patroni" ]; then echo "restarting patroni $zha_running as $zha_patroni"; systemctl restart ${layout.service}; ` +
            `elif [ "$ZHA_CHANGED" = 1 ]; then systemctl reload ${layout.service}; fi`,
        // Patroni's REST API answers 200 on /primary on the leader and on /replica on a streaming replica.
        // /health answers 200 once PostgreSQL runs, whichever role Patroni gave it; /replica once it streams.
        // A planned replica that still leads (db.primarySite just moved) keeps the lead until the
        // switchover step on the new primary, which runs after this one, hands it over.
        p.leader
            ? `zha_retry 120 ${PATRONI_CURL} -fsS -o /dev/null ${rest}/health`
            : `zha_retry 120 sh -c "${PATRONI_CURL} -fsS -o /dev/null ${rest}/replica || ${PATRONI_CURL} -fsS -o /dev/null ${rest}/primary"`,
        `echo "patroni runs this host, planned as the ${role}"`,
    ].join("\n");
}

/**
 * Stops the step before Patroni is configured when the installed Patroni is older than
 * PATRONI_MINIMUM_VERSION (see there why); sets zha_patroni to the installed version.
 */
export function patroniVersionGuard(minimum = PATRONI_MINIMUM_VERSION): string {
    return `zha_patroni=$(patroni --version 2>/dev/null | awk '{print $2}')
if [ -z "$zha_patroni" ] || [ "$(printf '%s\\n%s\\n' ${minimum} "$zha_patroni" | sort -V | head -n 1)" != ${minimum} ]; then
  echo "patroni \${zha_patroni:-is not installed}: zabbix-ha needs ${minimum} or newer (older ones can drop acknowledged commits after a site cut); set db.patroniRepository to a repository that offers it" >&2
  exit 1
fi`;
}

/**
 * On db.primarySite's host: the cluster-wide settings (ttl, loop_wait, retry_timeout, the lag a
 * candidate may have, synchronous mode) as the config says, in etcd, where a running cluster reads
 * them: patroni.yml's bootstrap.dcs only seeds a new cluster, so without this a changed
 * db.replication or a new timing would never reach one. `edit-config` says "Configuration changed"
 * only when it changed something.
 */
export function patroniSettingsStep(p: Pick<PatroniStepInput, "platform" | "synchronous">): string {
    const config = shellQuote(patroniLayout(p.platform).config);
    const settings = patroniClusterSettings(p.synchronous);
    const sets = settings.map(([key, value]) => `-s ${shellQuote(`${key}=${value}`)}`).join(" ");
    return `zha_settings=$(zha_retry 30 patronictl -c ${config} edit-config --force --quiet ${sets})
case "$zha_settings" in
  *"Configuration changed"*)
    echo "Patroni's cluster-wide settings are now ${settings.map(([key, value]) => `${key}=${value}`).join(" ")}"
    ;;
esac`;
}

/**
 * On db.primarySite's host: make it the leader by a planned switchover if another node leads.
 * Patroni hands the lead only to a candidate that is in sync (synchronous mode) or streams within
 * maximum_lag_on_failover, so the step waits for that first: a former leader that just rejoined
 * (the previous switchover) is a replica before it is a synchronous one again.
 */
export function patroniSwitchoverStep(
    p: Pick<PatroniStepInput, "platform" | "name" | "address" | "synchronous">,
): string {
    const layout = patroniLayout(p.platform);
    const rest = patroniRestUrl(p.address);
    const eligible = p.synchronous ? `${rest}/sync` : `${rest}/replica?lag=${MAXIMUM_LAG_ON_FAILOVER}`;
    return `if ! ${PATRONI_CURL} -fsS -o /dev/null ${rest}/primary; then
  zha_retry 120 ${PATRONI_CURL} -fsS -o /dev/null ${shellQuote(eligible)}
  echo "switching the primary over to ${p.name}"
  zha_retry 5 patronictl -c ${shellQuote(layout.config)} switchover --candidate ${p.name} --force
  zha_retry 60 ${PATRONI_CURL} -fsS -o /dev/null ${rest}/primary
fi`;
}
