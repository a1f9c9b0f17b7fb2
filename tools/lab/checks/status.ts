/**
 * `npm run lab -- status`: what the lab's records say runs, checked live over SSH (no password
 * needed: the DB questions, the probe's, go to the postgres OS user on the DB hosts).
 */
import { existsSync } from "fs";
import { readEnvironment } from "../../offline";
import { HostRecord, StateFile, cachePaths, hostMemory, isAlive, sshRun, topologyOf } from "../machines";
import { stackOutputs } from "../replay";
import { describeRuns, whatRuns } from "./hostOs";
import { haNodes, inRecovery, onHostAsPostgres, replicationStates } from "./probe";
import { unitsOf } from "./units";

async function remote(rec: HostRecord, key: string, command: string): Promise<{ ok: boolean; text: string }> {
    const out = await sshRun({
        host: rec.address,
        port: 22,
        user: "root",
        key,
        command,
        connectTimeout: 3,
        timeoutMs: 20_000,
    });
    return { ok: out.code === 0, text: (out.stdout + (out.code === 0 ? "" : out.stderr)).trim() };
}

export async function status(options: { cacheRoot?: string; log?: (line: string) => void } = {}): Promise<boolean> {
    const log = options.log ?? (line => console.log(line));
    const paths = cachePaths(options.cacheRoot);
    const state = new StateFile(paths.state).read();
    if (!state) {
        log(`no lab recorded in ${paths.state}: run \`npm run lab -- up\``);
        return false;
    }
    const topo = existsSync(state.configFile) ? topologyOf(readEnvironment(state.configFile)) : undefined;
    log(
        `lab from ${state.configFile}, started ${state.startedAt}${state.deployed ? `, deployed ${state.deployed.at}` : ", not deployed"}`,
    );
    for (const site of topo?.sites ?? []) {
        log(`site ${site.name}: ${site.network} (gateway ${site.gateway} in ${topo!.routerNetns})`);
    }
    if (topo) {
        log(`admin network: ${topo.admin.network}, this machine ${topo.admin.address}`);
    }
    // The witness that keeps etcd's leader, as the applied plan declared it.
    const facts = state.facts && stackOutputs(state.facts.outputs).topology;
    const keeper = facts?.instances.map(i => i.database.quorumLeader?.host).find(Boolean);
    let healthy = true;
    const memory = hostMemory(state.hosts);
    for (const rec of state.hosts) {
        const running = rec.pid !== undefined && isAlive(rec.pid);
        const ssh = running ? await remote(rec, paths.sshKey, "true") : { ok: false, text: "" };
        const services = unitsOf(
            { name: rec.name, os: topo?.hosts.find(h => h.name === rec.name)?.os ?? "debian12", roles: rec.roles },
            {
                failover: topo?.config.db.failover ?? "manual",
                packageSource: topo?.config.zabbix.packageSource ?? "distribution",
                etcdLeaderKeeper: keeper,
            },
        );
        let detail = "";
        const runs = ssh.ok ? await whatRuns(rec, paths.sshKey).catch(() => undefined) : undefined;
        const what = runs ? `; ${describeRuns(runs)}` : "";
        if (ssh.ok && services.length > 0) {
            const active = await remote(
                rec,
                paths.sshKey,
                `for s in ${services.join(" ")}; do printf '%s=%s ' "$s" "$(systemctl is-active "$s")"; done`,
            );
            detail = active.text;
            healthy &&=
                active.ok &&
                detail
                    .trim()
                    .split(" ")
                    .every(s => s.endsWith("=active"));
        }
        healthy &&= running && ssh.ok;
        log(
            `host ${rec.name} (${rec.address}, site ${rec.site}, ${rec.roles.join("+")}${what}): ${running ? `running (pid ${rec.pid}, ${memory.get(rec.name)?.pssMiB.toFixed(0)} MiB PSS)` : "NOT RUNNING"}, ` +
                `ssh ${ssh.ok ? "ok" : "FAILED"}${detail ? `, ${detail.trim()}` : ""}`,
        );
    }
    if (topo && state.deployed) {
        // Whichever DB hosts are primaries now (one per installation): what they say about servers and replicas.
        for (const db of state.hosts.filter(h => h.roles.includes("db"))) {
            const host = { ...db, sshPort: 22, sshUser: "root" };
            const on = (database?: string) =>
                onHostAsPostgres(host, paths.sshKey, topo.config.db.port, {
                    database,
                    connectTimeout: 3,
                    timeoutMs: 20_000,
                });
            const unknown = (err: unknown) => `unknown (${(err as Error).message})`;
            const role = await inRecovery(on()).then(replica => (replica ? "replica" : "primary"), unknown);
            if (role !== "primary") {
                log(`database on ${db.name}: ${role}`);
                continue;
            }
            const nodes = await haNodes(on(topo.config.db.name)).then(
                n => n.map(h => `${h.name || "(standalone)"}=${h.status}`).join(", ") || "none",
                unknown,
            );
            const replicas = await replicationStates(on()).then(
                r => [...r].map(([name, state]) => `${name}=${state}`).join(", ") || "none",
                unknown,
            );
            log(`database on ${db.name}: primary; HA nodes ${nodes}; replicas ${replicas}`);
        }
    }
    return healthy;
}
