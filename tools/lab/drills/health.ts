/**
 * Whether the lab is whole again: every host runs with its services, one database accepts writes
 * and every other streams from it, one Zabbix node is active and the others stand by, and every
 * load balancer serves the login page. A drill starts only from a whole lab and waits for one after
 * its fault is undone, so no drill inherits the previous one's damage.
 */
import { parseEtcdEndpointStatus } from "../../../components/postgres/etcdLeaderKeep";
import { ETCDCTL, PATRONI_CURL, etcdClientUrl, patroniRestUrl } from "../../../components/postgres/patroniSteps";
import { dbView, haNodes, unitsOf, walReceiverStatus } from "../checks";
import { LabHost, isAlive, sleep } from "../machines";
import { loginPageAnswers } from "./api";
import { DrillLab, onHost, patroniConfig, postgresUnit, recordOf } from "./context";
import { adminOn, ask, viaLoadBalancer } from "./sql";

export interface LabHealth {
    readonly ok: boolean;
    readonly problems: readonly string[];
    /** The active Zabbix node's host. */
    readonly active?: LabHost;
    /** The DB host that accepts writes. */
    readonly primary?: LabHost;
}

/** Units each role of a host runs; with manual failover across sites, the fence and the newest-primary watcher too. */
function labUnits(lab: DrillLab, host: LabHost): string[] {
    return unitsOf(host, {
        failover: lab.failover,
        packageSource: lab.topo.config.zabbix.packageSource,
        fenced: lab.dbHosts.length > 1,
        etcdLeaderKeeper: lab.model.instances[0].database.quorumLeader?.host,
    });
}

const UNIT_STATES = (units: readonly string[]) =>
    `for u in ${units.join(" ")}; do printf '%s=%s\\n' "$u" "$(systemctl is-active "$u")"; done`;

async function hostProblems(lab: DrillLab, host: LabHost): Promise<string[]> {
    const rec = recordOf(lab, host);
    if (!rec.pid || !isAlive(rec.pid)) {
        return [`${host.name} is not running`];
    }
    const units = labUnits(lab, host);
    const out = await onHost(lab, host, UNIT_STATES(units), 10_000);
    if (out.code !== 0) {
        return [`${host.name}: no SSH (${out.stderr.trim().split("\n")[0]})`];
    }
    return out.stdout
        .trim()
        .split("\n")
        .filter(l => l && !l.endsWith("=active"))
        .map(l => `${host.name}: ${l}`);
}

/** One database writable, the others streaming (pg_stat_wal_receiver: a manual or a Patroni replica alike). */
async function databaseProblems(lab: DrillLab): Promise<{ problems: string[]; primary?: LabHost }> {
    const problems: string[] = [];
    const views = await Promise.all(
        lab.dbHosts.map(async db => {
            try {
                return { db, view: await dbView(ask(adminOn(lab, db)), lab.model.failoverDelaySeconds) };
            } catch (err) {
                problems.push(`${db.name}: ${(err as Error).message}`);
                return { db, view: undefined };
            }
        }),
    );
    const writable = views.filter(v => v.view?.writable).map(v => v.db);
    if (writable.length !== 1) {
        problems.push(`${writable.length} writable databases (${writable.map(d => d.name).join(", ") || "none"})`);
    }
    for (const replica of views.filter(v => v.view && !v.view.writable).map(v => v.db)) {
        const receiver = await walReceiverStatus(ask(adminOn(lab, replica))).catch(err => (err as Error).message);
        if (receiver !== "streaming") {
            problems.push(`${replica.name} does not stream (${receiver})`);
        }
    }
    return { problems, primary: writable.length === 1 ? writable[0] : undefined };
}

/** One node active with a fresh heartbeat, every other standing by, as every load balancer's DB port shows it. */
async function serverProblems(lab: DrillLab): Promise<{ problems: string[]; active?: LabHost }> {
    const problems: string[] = [];
    let active: LabHost | undefined;
    for (const lb of lab.loadBalancers) {
        try {
            const nodes = await haNodes(ask(viaLoadBalancer(lab, lb)));
            const actives = nodes.filter(n => n.status === "active" && n.age < lab.model.failoverDelaySeconds);
            const others = nodes.filter(n => !actives.includes(n));
            if (
                actives.length !== 1 ||
                others.some(n => n.status !== "standby") ||
                nodes.length !== lab.servers.length
            ) {
                problems.push(
                    `ha_node via ${lb.name}: ${nodes.map(n => `${n.name}=${n.status} (${n.age} s)`).join(", ")}`,
                );
            } else {
                active = lab.servers.find(s => s.name === actives[0].name);
            }
        } catch (err) {
            problems.push(`ha_node via ${lb.name}: ${(err as Error).message}`);
        }
    }
    return { problems, active };
}

/**
 * Under Patroni, every etcd member answers and follows the same leader in the same raft term: after a
 * cut heals, a member can stay behind on its old term for a while (its peer connections redialled
 * with a backoff), and the next fault would then find no quorum (seen in the lab with etcd 3.5: the
 * DB failover after the next site cut took 64 s instead of 27); each member serves a linearizable
 * read. And the leader is on the witness that keeps it (etcdLeaderKeep.ts), as the stack holds it
 * between faults: a drill that started with the leader in a DB site would measure a failover the
 * stack does not have in steady state.
 */
async function etcdProblems(lab: DrillLab): Promise<string[]> {
    if (lab.failover !== "patroni") {
        return [];
    }
    const members = lab.topo.hosts.filter(h => labUnits(lab, h).includes("etcd"));
    const endpoints = members.map(etcdClientUrl).join(",");
    const keeper = members.find(h => h.name === lab.model.instances[0].database.quorumLeader?.host);
    for (const host of members) {
        const out = await onHost(
            lab,
            host,
            `${ETCDCTL} --endpoints=${endpoints} --command-timeout=3s endpoint status`,
            15_000,
        );
        const statuses = parseEtcdEndpointStatus(out.stdout);
        if (statuses.length === 0) {
            continue;
        }
        const leaders = statuses.filter(s => s.leader).map(s => s.endpoint);
        const terms = new Set(statuses.map(s => s.term));
        if (statuses.length !== members.length || leaders.length !== 1 || terms.size !== 1) {
            return [
                `etcd: ${statuses.length} of ${members.length} members answer, leader ${leaders.join(" / ") || "none"}, terms ${[...terms].join(" / ")}`,
            ];
        }
        // A linearizable read through every member: one that answers and follows the leader can still
        // be unheard by it for most of a minute after a heal (the lab: the witness then lost its
        // quorum when the next cut took the other DB site 19 s later, and etcd had no leader for 27 s).
        const health = await onHost(
            lab,
            host,
            `${ETCDCTL} --endpoints=${endpoints} --command-timeout=3s endpoint health 2>&1`,
            15_000,
        );
        if (health.code !== 0) {
            const unhealthy = health.stdout
                .split("\n")
                .filter(line => / is unhealthy/.test(line))
                .map(line => line.split(" ")[0]);
            return [`etcd: no linearizable read through ${unhealthy.join(", ") || "some member"}`];
        }
        const kept = keeper && etcdClientUrl(keeper);
        return kept && leaders[0] !== kept
            ? [`etcd: the leader is ${leaders[0]}, not ${keeper.name}'s member, which keeps it`]
            : [];
    }
    return ["etcd: no member answers"];
}

/**
 * Under Patroni with sync replication, a replica Patroni has made the synchronous standby (its REST
 * API answers 200 on /sync): after a heal Patroni assigns it only once the replica has caught up, and
 * until then no replica may be promoted (it might lack commits), so a fault then is a different drill
 * (seen in the lab: a site cut 1 s after the previous heal promoted no one for 87 s, by design).
 */
async function syncStandbyProblems(lab: DrillLab, primary: LabHost | undefined): Promise<string[]> {
    if (lab.failover !== "patroni" || lab.topo.config.db.replication !== "sync" || !primary) {
        return [];
    }
    const replicas = lab.dbHosts.filter(h => h.name !== primary.name);
    const answers = await Promise.all(
        replicas.map(async h => {
            const out = await onHost(
                lab,
                h,
                `${PATRONI_CURL} -s -o /dev/null -w '%{http_code}' ${patroniRestUrl(h.address)}/sync`,
                10_000,
            );
            return out.stdout.trim() === "200";
        }),
    );
    return answers.some(Boolean) ? [] : ["Patroni has no synchronous standby yet"];
}

export async function labHealth(lab: DrillLab): Promise<LabHealth> {
    const hosts = (await Promise.all(lab.topo.hosts.map(h => hostProblems(lab, h)))).flat();
    const db = await databaseProblems(lab);
    const servers = await serverProblems(lab);
    const ui = await Promise.all(
        lab.loadBalancers.map(async lb =>
            (await loginPageAnswers(lb, lab.uiCa)) ? [] : [`no login page through ${lb.name}`],
        ),
    );
    const etcd = await etcdProblems(lab);
    const sync = await syncStandbyProblems(lab, db.primary);
    const problems = [...hosts, ...db.problems, ...servers.problems, ...ui.flat(), ...etcd, ...sync];
    return { ok: problems.length === 0, problems, active: servers.active, primary: db.primary };
}

/** Polls until the lab is whole, or fails with what is still wrong. */
export async function waitHealthy(lab: DrillLab, timeoutMs: number): Promise<LabHealth & { seconds: number }> {
    const started = Date.now();
    let last: LabHealth = { ok: false, problems: ["not checked"] };
    while (Date.now() - started < timeoutMs) {
        last = await labHealth(lab);
        if (last.ok) {
            return { ...last, seconds: (Date.now() - started) / 1000 };
        }
        await sleep(2000);
    }
    throw new Error(
        `the lab is not whole after ${timeoutMs / 1000} s:\n  - ${last.problems.join("\n  - ")}${await patroniView(lab)}`,
    );
}

/** Patroni's own account of its members (from the first DB host that answers), for a failure report. */
async function patroniView(lab: DrillLab): Promise<string> {
    if (lab.failover !== "patroni") {
        return "";
    }
    for (const db of lab.dbHosts) {
        const out = await onHost(
            lab,
            db,
            `patronictl -c ${patroniConfig(db)} list; journalctl -q -u ${postgresUnit(lab, db)} --no-pager -n 15 | cut -c1-220`,
            15_000,
        );
        if (out.code === 0) {
            return `\n  Patroni, as ${db.name} sees it:\n${out.stdout
                .trimEnd()
                .split("\n")
                .map(l => `    ${l}`)
                .join("\n")}`;
        }
    }
    return "";
}

/**
 * Starts every unit of the lab that is not running once a drill's own undo is done: a service that
 * stopped as a consequence of the fault (not of the drill's hand) is a finding, reported by the
 * caller, and the next drill must still start from a whole lab. Returns "host: unit" for each.
 */
export async function startStoppedUnits(lab: DrillLab): Promise<string[]> {
    const started: string[] = [];
    for (const host of lab.topo.hosts) {
        const out = await onHost(lab, host, UNIT_STATES(labUnits(lab, host)), 10_000);
        const stopped = out.stdout
            .trim()
            .split("\n")
            .filter(l => l.includes("=") && !l.endsWith("=active"))
            .map(l => l.split("=")[0]);
        for (const unit of stopped) {
            const start = await onHost(
                lab,
                host,
                `systemctl reset-failed ${unit} 2>/dev/null; systemctl start ${unit}`,
                120_000,
            );
            started.push(
                `${host.name}: ${unit}${start.code === 0 ? "" : ` (start failed: ${start.stderr.trim().split("\n")[0]})`}`,
            );
        }
    }
    return started;
}
