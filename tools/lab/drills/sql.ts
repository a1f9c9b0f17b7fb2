/**
 * Where the drills ask PostgreSQL, each question bounded to a few seconds: during a fault a
 * connection may hang on a silent network, and a probe that hangs would stall the measurement it
 * serves. Three ways in: through a load balancer's DB port as the zabbix role (what Zabbix and the
 * frontends see), straight to a DB host as the admin role from the machine (db.adminNetwork, which
 * pg_hba admits), and from inside a host's own network namespace as the zabbix role, which still
 * works when the host's site is cut off from the machine. What they ask about a database's state is
 * the probe's (checks/probe.ts).
 */
import { Ask, fromMachine } from "../checks";
import { LabHost, PgConnection } from "../machines";
import { DrillLab } from "./context";

/** Where a drill's question goes, and as whom. */
export type SqlTarget = PgConnection;

/** Asks `target`, each question given `timeoutMs` (the server cancels a statement a second before). */
export function ask(target: SqlTarget, timeoutMs = 4000): Ask {
    return fromMachine(target, { application: "zabbix-ha-drill", timeoutMs, statementTimeoutMs: timeoutMs - 1000 });
}

/** Rows of `|`-separated fields; throws with psql's message when the question could not be asked. */
export function query(target: SqlTarget, sql: string, timeoutMs?: number): Promise<string[][]> {
    return ask(target, timeoutMs)(sql);
}

/** The Zabbix database at an address and port, as a login; the drills never wait long for a connection. */
function zabbixDatabase(
    lab: DrillLab,
    address: string,
    port: number,
    login: { readonly user: string; readonly password: string },
): SqlTarget {
    return {
        host: address,
        port: String(port),
        username: login.user,
        password: login.password,
        database: lab.topo.config.db.name,
        ...lab.dbTls,
        connectTimeout: "2",
    };
}

const zabbixLogin = (lab: DrillLab) => ({ user: lab.topo.config.db.user, password: lab.zabbixPassword });

/** The Zabbix database through a load balancer's DB port, as Zabbix itself reaches it. */
export function viaLoadBalancer(lab: DrillLab, lb: LabHost): SqlTarget {
    return zabbixDatabase(lab, lb.address, lab.topo.config.loadBalancer.dbPort, zabbixLogin(lab));
}

/** The balancer that answered last, per lab: a cut site's stays dark for the whole fault, so it is tried last. */
const lastAnswered = new WeakMap<DrillLab, LabHost>();

/**
 * Asks the Zabbix database through the first load balancer that answers, trying the one that
 * answered last first (a balancer in a cut site would cost its timeout on every read); throws the
 * last balancer's error when none answers.
 */
export async function viaAnyBalancer(lab: DrillLab, sql: string, timeoutMs = 4000): Promise<string[][]> {
    const last = lastAnswered.get(lab);
    const order = last ? [last, ...lab.loadBalancers.filter(lb => lb !== last)] : lab.loadBalancers;
    let failure: unknown = new Error("the lab has no load balancer");
    for (const lb of order) {
        try {
            const rows = await query(viaLoadBalancer(lab, lb), sql, timeoutMs);
            lastAnswered.set(lab, lb);
            return rows;
        } catch (err) {
            failure = err;
        }
    }
    throw failure;
}

/** The same path as the admin role: a login that a rotation of the zabbix role's password leaves alone. */
export function adminViaLoadBalancer(lab: DrillLab, lb: LabHost): SqlTarget {
    return zabbixDatabase(lab, lb.address, lab.topo.config.loadBalancer.dbPort, lab.admin);
}

/** A DB host itself, as the admin role from the machine. */
export function adminOn(lab: DrillLab, db: LabHost): SqlTarget {
    return zabbixDatabase(lab, db.address, lab.topo.config.db.port, lab.admin);
}

/** A DB host from inside its own network namespace, as the zabbix role (pg_hba admits it from the host's address). */
export function fromInside(lab: DrillLab, db: LabHost): SqlTarget {
    return { ...zabbixDatabase(lab, db.address, lab.topo.config.db.port, zabbixLogin(lab)), netns: db.netns };
}
