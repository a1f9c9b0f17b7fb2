/**
 * The drills' questions to PostgreSQL, each bounded to a few seconds: during a fault a connection
 * may hang on a silent network, and a probe that hangs would stall the measurement it serves.
 * Three ways in: through a load balancer's DB port as the zabbix role (what Zabbix and the frontends
 * see), straight to a DB host as the admin role from the machine (db.adminNetwork, which pg_hba
 * admits), and from inside a host's own network namespace as the zabbix role, which still works when
 * the host's site is cut off from the machine.
 */
import { existsSync } from "fs";
import { LabHost, run } from "../machines";
import { DrillLab } from "./context";

const PSQL = ["/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"].find(existsSync) ?? "psql";

export interface SqlTarget {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
    readonly database: string;
    /** Run psql inside this network namespace (the machine's own when absent). */
    readonly netns?: string;
}

/** Rows of `|`-separated fields; throws with psql's message when the question could not be asked. */
export async function query(target: SqlTarget, sql: string, timeoutMs = 4000): Promise<string[][]> {
    const args = ["-X", "-q", "-t", "-A", "-w", "-v", "ON_ERROR_STOP=1", "-h", target.host, "-p", String(target.port), "-U", target.user, "-d", target.database, "-c", sql];
    const [program, argv] = target.netns ? ["ip", ["netns", "exec", target.netns, PSQL, ...args]] : [PSQL, args];
    const out = await run(program, argv, {
        env: {
            PGPASSWORD: target.password, PGSSLMODE: "disable", PGCONNECT_TIMEOUT: "2", PGAPPNAME: "zabbix-ha-drill",
            PGOPTIONS: `-c statement_timeout=${timeoutMs - 1000}`,
        },
        timeoutMs,
    });
    if (out.code !== 0) {
        throw new Error(`${target.host}:${target.port}: ${(out.stderr || out.stdout).trim().split("\n")[0] || `psql exited ${out.code}`}`);
    }
    return out.stdout.split("\n").filter(Boolean).map(l => l.split("|"));
}

/** The Zabbix database through a load balancer's DB port, as Zabbix itself reaches it. */
export function viaLoadBalancer(lab: DrillLab, lb: LabHost): SqlTarget {
    return { host: lb.address, port: lab.topo.config.loadBalancer.dbPort, user: lab.topo.config.db.user, password: lab.zabbixPassword, database: lab.topo.config.db.name };
}

/** A DB host itself, as the admin role from the machine. */
export function adminOn(lab: DrillLab, db: LabHost): SqlTarget {
    return { host: db.address, port: lab.topo.config.db.port, user: lab.admin.user, password: lab.admin.password, database: lab.topo.config.db.name };
}

/** A DB host from inside its own network namespace, as the zabbix role (pg_hba admits it from the host's address). */
export function fromInside(lab: DrillLab, db: LabHost): SqlTarget {
    return { host: db.address, port: lab.topo.config.db.port, user: lab.topo.config.db.user, password: lab.zabbixPassword, database: lab.topo.config.db.name, netns: db.netns };
}

export const HA_STATUS: Record<string, string> = { 0: "standby", 1: "stopped", 2: "unavailable", 3: "active" };

export interface HaNode {
    readonly name: string;
    readonly status: string;
    /** Seconds since the node last wrote its heartbeat, by the database's clock (Zabbix writes it by that clock). */
    readonly age: number;
}

export async function haNodes(target: SqlTarget): Promise<HaNode[]> {
    const rows = await query(target, "select name, status, extract(epoch from now())::bigint - lastaccess from ha_node order by name");
    return rows.map(([name, status, age]) => ({ name, status: HA_STATUS[status] ?? `status ${status}`, age: Number(age) }));
}

/** An active node whose heartbeat is younger than the failover delay: the others would not take over from it. */
export function freshActive(nodes: readonly HaNode[], failoverDelaySeconds: number): string[] {
    return nodes.filter(n => n.status === "active" && n.age < failoverDelaySeconds).map(n => n.name);
}

export interface DbView {
    readonly writable: boolean;
    /** Active nodes with a fresh heartbeat in this database (asked only of a writable one). */
    readonly active: readonly string[];
}

/** Whether a database accepts writes, and which Zabbix nodes it holds to be active. */
export async function dbView(target: SqlTarget, failoverDelaySeconds: number, timeoutMs?: number): Promise<DbView> {
    const [[recovery, active]] = await query(target, `select pg_is_in_recovery(), coalesce((select string_agg(name, ',') from ha_node
        where status = 3 and lastaccess > extract(epoch from now()) - ${failoverDelaySeconds}), '')`, timeoutMs);
    return { writable: recovery === "f", active: recovery === "f" ? active.split(",").filter(Boolean) : [] };
}
