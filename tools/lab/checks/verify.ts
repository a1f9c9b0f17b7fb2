/**
 * What `up` proves once the plan is applied, for each Zabbix installation the stack built: its load
 * balancers serve the UI and the API, exactly one server node is active (the others standing by,
 * with native HA), every replica streams from the primary; and replaying the whole plan again
 * changes nothing.
 */
import { RESOURCE_TYPES } from "../../../components/facts";
import { HSTS_HEADER } from "../../../components/loadbalancer/haproxyCfg";
import { httpRequest, uiBase } from "../drills/api";
import { LabHost, Topology, sleep } from "../machines";
import { StepReport } from "../replay";
import { dataPathState, judgeDataPath } from "./dataPath";
import { Instance } from "./instances";
import { checkPatroniAndEtcdLocked } from "./patroniEtcd";
import { Ask, fromMachine, haNodes, onHostAsPostgres, remoteSessionsOf, replicationStates, sessionsOf } from "./probe";

export interface Check {
    readonly name: string;
    readonly ok: boolean;
    readonly detail: string;
}

/** Retries a probe until it passes or the time is up; the last answer explains a failure. */
async function eventually(name: string, timeoutMs: number, probe: () => Promise<Check>): Promise<Check> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        let result: Check;
        try {
            result = await probe();
        } catch (err) {
            result = { name, ok: false, detail: (err as Error).message };
        }
        if (result.ok || Date.now() > deadline) {
            return result;
        }
        await sleep(2000);
    }
}

/** How the frontends of an instance reach its database, as the zabbix role: the managed endpoint, or a site's load balancer. */
function asZabbix(lab: Topology, i: Instance, password: string): Ask | undefined {
    const as = { username: lab.config.db.user, password, database: lab.config.db.name, connectTimeout: "5" };
    const lb = i.entryPoints[0];
    const conn = i.managed
        ? {
              ...as,
              host: i.managed.host.address,
              port: String(i.managed.port),
              sslmode: i.managed.sslmode,
              ...(i.managed.sslrootcert ? { sslrootcert: i.managed.sslrootcert } : {}),
          }
        : lb
          ? {
                ...as,
                host: lb.address,
                port: String(lab.config.loadBalancer.dbPort),
                ...(i.dbTls ?? { sslmode: "disable" }),
            }
          : undefined;
    return conn && fromMachine(conn, { application: "zabbix-ha-lab", timeoutMs: 120_000 });
}

/** The API's answer to one JSON-RPC call without a session, over HTTPS verified against the CA. */
async function apiCall(base: string, ca: string, method: string, params: unknown) {
    const answer = await httpRequest(`${base}api_jsonrpc.php`, {
        body: JSON.stringify({ jsonrpc: "2.0", method, params, id: 1 }),
        timeoutMs: 10_000,
        ca,
    });
    const parsed = (() => {
        try {
            return JSON.parse(answer.body) as { result?: unknown; error?: { data?: string } };
        } catch {
            return undefined;
        }
    })();
    return { answer, parsed };
}

/**
 * A load balancer's UI as users reach it: the login page over HTTPS with a certificate that verifies
 * against the stack's CA and names the load balancer's address, the HSTS header, plain HTTP only a
 * redirect to HTTPS, the API answering, and the shipped Admin/zabbix refused.
 */
async function checkUi(lab: Topology, label: string, lb: LabHost, ca: string, timeoutMs: number): Promise<Check[]> {
    const base = uiBase(lb);
    const ui = await eventually(`${label}UI ${lb.site}`, timeoutMs, async () => {
        const page = await httpRequest(`${base}index.php`, { timeoutMs: 10_000, ca });
        const login = page.status === 200 && /Zabbix/.test(page.body) && /name="password"/.test(page.body);
        const hsts = page.headers["strict-transport-security"] === HSTS_HEADER;
        return {
            name: `${label}UI ${lb.site}`,
            ok: login && hsts,
            detail: !login
                ? `${base}index.php answered ${page.status}: ${page.body.slice(0, 200).replace(/\s+/g, " ")}`
                : hsts
                  ? `${base} serves the login page over HTTPS, its certificate verified against the stack's CA, with HSTS`
                  : `${base} sends no HSTS header "${HSTS_HEADER}" (got ${page.headers["strict-transport-security"] ?? "none"})`,
        };
    });
    const plain = `http://${lb.address}:${lab.config.loadBalancer.httpPort}/index.php`;
    const redirect = await eventually(`${label}UI ${lb.site} HTTP`, timeoutMs, async () => {
        const answer = await httpRequest(plain, { timeoutMs: 10_000 });
        const location = answer.headers.location ?? "";
        const ok = answer.status === 301 && location.startsWith(base);
        return {
            name: `${label}UI ${lb.site} HTTP`,
            ok,
            detail: ok
                ? `${plain} redirects to ${location}`
                : `${plain} answered ${answer.status} (location ${location || "none"}): it must only redirect to ${base}`,
        };
    });
    const api = await eventually(`${label}API ${lb.site}`, timeoutMs, async () => {
        const { answer, parsed } = await apiCall(base, ca, "apiinfo.version", {});
        const version = parsed?.result;
        const ok =
            answer.status === 200 && typeof version === "string" && version.startsWith(lab.config.zabbix.version);
        return {
            name: `${label}API ${lb.site}`,
            ok,
            detail: ok ? `apiinfo.version ${version}` : `answered ${answer.status}: ${answer.body.slice(0, 200)}`,
        };
    });
    const shipped = await eventually(`${label}Admin/zabbix ${lb.site}`, timeoutMs, async () => {
        const { answer, parsed } = await apiCall(base, ca, "user.login", { username: "Admin", password: "zabbix" });
        // Refused: an API error (a wrong password or a blocked account), never a session token.
        const ok = answer.status === 200 && parsed?.error !== undefined && parsed.result === undefined;
        return {
            name: `${label}Admin/zabbix ${lb.site}`,
            ok,
            detail: ok
                ? `user.login as Admin/zabbix refused: ${parsed?.error?.data ?? "error"}`
                : parsed?.result !== undefined
                  ? "user.login as Admin with the shipped password zabbix succeeded"
                  : `answered ${answer.status}: ${answer.body.slice(0, 200)}`,
        };
    });
    return [ui, redirect, api, shipped];
}

/** Native HA: every server registered, one active, the others standing by. Otherwise one active server. */
async function checkServers(lab: Topology, label: string, i: Instance, key: string, timeoutMs: number): Promise<Check> {
    const name = `${label}${i.nativeHa ? "HA nodes" : "server node"}`;
    // As the frontends read ha_node; without a password at hand, on the primary itself as the postgres OS user.
    const ask =
        (i.zabbixPassword ? asZabbix(lab, i, i.zabbixPassword) : undefined) ??
        (i.primary
            ? onHostAsPostgres(i.primary, key, lab.config.db.port, { database: lab.config.db.name })
            : undefined);
    return eventually(name, timeoutMs, async () => {
        const nodes = ask ? await haNodes(ask) : [];
        const active = nodes.filter(n => n.status === "active");
        const standby = nodes.filter(n => n.status === "standby");
        const registered = JSON.stringify(nodes.map(n => n.name).sort()) === JSON.stringify([...i.servers].sort());
        const ok = i.nativeHa
            ? registered && active.length === 1 && standby.length === nodes.length - 1
            : active.length === 1;
        return {
            name,
            ok,
            detail: nodes.map(n => `${n.name || "(standalone)"}=${n.status}`).join(", ") || "ha_node is empty",
        };
    });
}

/**
 * The proxies in contact with the active node and every monitored host's values stored, fresh: the
 * data path works end to end, PSKs, proxy group and template included. The first values need the
 * proxies' and the agents' first configuration syncs, hence the longer wait.
 */
async function checkDataPath(lab: Topology, label: string, i: Instance, timeoutMs: number): Promise<Check> {
    const name = `${label}data path`;
    const ask = i.zabbixPassword ? asZabbix(lab, i, i.zabbixPassword) : undefined;
    return eventually(name, timeoutMs * 2, async () => {
        if (!ask) {
            return { name, ok: false, detail: "no zabbix role password in the plan to read the database with" };
        }
        return { name, ...judgeDataPath(await dataPathState(ask, i.proxies, i.agents), i.proxies, i.agents) };
    });
}

/**
 * A managed endpoint: the provider keeps the standby, so what the lab checks is the contract the
 * stack relies on: every Zabbix session (servers and frontends) reaches it encrypted, as sslmode asks.
 */
async function checkManagedSessions(
    lab: Topology,
    label: string,
    i: Instance,
    key: string,
    timeoutMs: number,
): Promise<Check> {
    const name = `${label}managed database`;
    const managed = i.managed!;
    const host = managed.host;
    return eventually(name, timeoutMs, async () => {
        const sessions = await sessionsOf(onHostAsPostgres(host, key, managed.port), lab.config.db.user);
        const clients = new Set(sessions.map(s => s.client));
        const servers = i.servers
            .map(s => lab.hosts.find(h => h.name === s)?.address)
            .filter((a): a is string => a !== undefined);
        const silent = servers.filter(a => !clients.has(a));
        const cleartext = [...new Set(sessions.filter(s => !s.ssl).map(s => s.client))];
        const wantTls = managed.sslmode !== "disable";
        const ok = silent.length === 0 && (!wantTls || cleartext.length === 0);
        return {
            name,
            ok,
            detail: ok
                ? `${host.name} serves ${sessions.length} zabbix session(s) from ${clients.size} host(s)${wantTls ? ", every one over TLS" : ""}; its standby is the provider's to keep`
                : [
                      silent.length > 0 ? `no session from server(s) ${silent.join(", ")}` : "",
                      wantTls && cleartext.length > 0 ? `cleartext sessions from ${cleartext.join(", ")}` : "",
                  ]
                      .filter(Boolean)
                      .join("; "),
        };
    });
}

/** A check of one installation, as every check here is asked. */
type InstanceCheck = (lab: Topology, label: string, i: Instance, key: string, timeoutMs: number) => Promise<Check>;

/** A check asked of the instance's DB primary, again until it passes or the time is up. */
function onPrimary(
    name: string,
    i: Instance,
    timeoutMs: number,
    probe: (primary: LabHost) => Promise<Omit<Check, "name">>,
): Promise<Check> {
    const primary = i.primary;
    if (!primary) {
        return Promise.resolve({ name, ok: false, detail: "the instance's DB primary is not a lab host" });
    }
    return eventually(name, timeoutMs, async () => ({ name, ...(await probe(primary)) }));
}

/** Replicas as the primary sees them (pg_stat_replication), over SSH as the postgres OS user. */
async function checkReplication(
    lab: Topology,
    label: string,
    i: Instance,
    key: string,
    timeoutMs: number,
): Promise<Check> {
    const name = `${label}replication`;
    return onPrimary(name, i, timeoutMs, async primary => {
        const streaming = await replicationStates(onHostAsPostgres(primary, key, lab.config.db.port));
        const missing = i.replicas.filter(r => streaming.get(r) !== "streaming");
        return {
            ok: missing.length === 0,
            detail:
                missing.length === 0
                    ? i.replicas.length > 0
                        ? `${primary.name} streams to ${i.replicas.join(", ")}`
                        : `${primary.name} has no replica to stream to`
                    : `${primary.name} does not stream to ${missing.join(", ")} (pg_stat_replication: ${[...streaming].map(([k, v]) => `${k}=${v}`).join(", ") || "empty"})`,
        };
    });
}

/**
 * A self-run primary's sessions from other hosts (Zabbix through the load balancers, the checks,
 * each replica's walsender) as pg_stat_ssl sees them: every one over TLS, none in clear.
 */
const checkSessionsEncrypted: InstanceCheck = (lab, label, i, key, timeoutMs) =>
    onPrimary(`${label}TLS sessions`, i, timeoutMs, async primary => {
        const sessions = await remoteSessionsOf(onHostAsPostgres(primary, key, lab.config.db.port));
        const clear = sessions.filter(s => s.tls === "");
        const zabbix = sessions.filter(s => s.user === lab.config.db.user).length;
        const walsenders = sessions.filter(s => s.kind === "walsender").length;
        const ok = clear.length === 0 && zabbix > 0 && walsenders >= i.replicas.length;
        const versions = [...new Set(sessions.map(s => s.tls))].join(", ");
        return {
            ok,
            detail: ok
                ? `${primary.name}: ${sessions.length} session(s) from other hosts, every one over ${versions} (${zabbix} zabbix, ${walsenders} walsender)`
                : clear.length > 0
                  ? `cleartext sessions on ${primary.name}: ${clear.map(s => `${s.user}@${s.client} (${s.kind})`).join(", ")}`
                  : `${primary.name} has ${zabbix} zabbix session(s) and ${walsenders} walsender(s) from other hosts, expected some and ${i.replicas.length}`,
        };
    });

/** Every check of every instance, reported as it completes. */
export async function verifyInstances(
    lab: Topology,
    instances: readonly Instance[],
    key: string,
    report: (c: Check) => void,
    timeoutMs = 90_000,
): Promise<void> {
    for (const i of instances) {
        const label = instances.length > 1 ? `${i.name}: ` : "";
        if (i.entryPoints.length === 0) {
            report({
                name: `${label}UI`,
                ok: false,
                detail: "no load balancer of this instance is a lab host; the lab checks the UI through load balancers",
            });
        }
        for (const lb of i.entryPoints) {
            if (i.uiCa === undefined) {
                report({
                    name: `${label}UI ${lb.site}`,
                    ok: false,
                    detail: "the plan exports no caCertificate to verify the UI's certificate against",
                });
                continue;
            }
            (await checkUi(lab, label, lb, i.uiCa, timeoutMs)).forEach(report);
        }
        report(await checkServers(lab, label, i, key, timeoutMs));
        report(
            i.managed
                ? await checkManagedSessions(lab, label, i, key, timeoutMs)
                : await checkReplication(lab, label, i, key, timeoutMs),
        );
        if (i.proxies.length + i.agents.length > 0) {
            report(await checkDataPath(lab, label, i, timeoutMs));
        }
        if (!i.managed) {
            report(await checkSessionsEncrypted(lab, label, i, key, timeoutMs));
            (await checkPatroniAndEtcdLocked(lab, label, i.primary, key)).forEach(report);
        }
    }
}

/** Lines a step prints only when it changes something. */
const CHANGE = /^(updated \S|installing:|loading the Zabbix schema)/;

/** The second replay must change nothing: no file rewritten, no package installed, no schema loaded. */
export function checkIdempotent(reports: readonly StepReport[]): Check {
    const changed = reports
        .filter(r => r.resource.type === RESOURCE_TYPES.command)
        .flatMap(r =>
            r.output
                .split("\n")
                .filter(l => CHANGE.test(l))
                .map(l => `${r.resource.name} @ ${r.target}: ${l}`),
        );
    return {
        name: "idempotence",
        ok: changed.length === 0,
        detail:
            changed.length === 0
                ? `${reports.length} steps replayed, nothing changed`
                : `the second replay changed things:\n      ${changed.join("\n      ")}`,
    };
}
