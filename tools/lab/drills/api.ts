/**
 * The Zabbix JSON-RPC API through the load balancers, as an operator's script would use it: the
 * drill's trapper item is made once, and before each fault a marker item is committed whose
 * presence afterwards shows whether configuration survived the failover. The login is Admin with
 * the password the plan generated (the shipped `zabbix` never works); the session lives in the
 * database, so it is renewed when a failover loses it.
 */
import * as http from "http";
import * as https from "https";
import { UI_HTTPS_PORT, uiUrl } from "../../../components/loadbalancer/ports";
import { LabHost } from "../machines";
import type { Login } from "../replay";

export const DRILL_HOST = "zha-drill";
export const DRILL_KEY = "drill.seq";
const DRILL_GROUP = "zha-drills";

/** What a request gets back. */
export interface HttpAnswer {
    readonly status: number;
    readonly headers: http.IncomingHttpHeaders;
    readonly body: string;
}

/** How a request is made. */
export interface HttpRequestOptions {
    /** A POST's JSON-RPC body; a GET without it. */
    readonly body?: string;
    readonly timeoutMs?: number;
    readonly headers?: Readonly<Record<string, string>>;
    /** The CA (PEM) an https:// server's certificate must verify against: the stack's, as a user's browser trusts it. */
    readonly ca?: string;
}

/** One request, on a new connection; an https:// URL's server is verified against `ca` and its name. */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
    const { body, timeoutMs = 3000, headers = {}, ca } = options;
    const secure = url.startsWith("https:");
    return new Promise((resolve, reject) => {
        const req = (secure ? https : http).request(
            url,
            {
                method: body === undefined ? "GET" : "POST",
                headers: body === undefined ? headers : { "Content-Type": "application/json-rpc", ...headers },
                timeout: timeoutMs,
                // A new connection per request: a kept-alive one would hide a load balancer's restart.
                agent: false,
                ...(secure ? { ca, rejectUnauthorized: true } : {}),
            },
            res => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () =>
                    resolve({
                        status: res.statusCode ?? 0,
                        headers: res.headers,
                        body: Buffer.concat(chunks).toString(),
                    }),
                );
                res.on("error", reject);
            },
        );
        req.on("timeout", () => req.destroy(new Error("timed out")));
        req.on("error", reject);
        req.end(body);
    });
}

/** The UI's address through a load balancer: HTTPS on its standard port. */
export function uiBase(lb: LabHost): string {
    return uiUrl(lb.address, UI_HTTPS_PORT);
}

/** The login page through a load balancer over HTTPS, verified against the stack's CA: what a user's browser sees first. */
export async function loginPageAnswers(lb: LabHost, ca: string): Promise<boolean> {
    try {
        const page = await httpRequest(`${uiBase(lb)}index.php`, { ca });
        return page.status === 200 && /name="password"/.test(page.body);
    } catch {
        return false;
    }
}

class ApiError extends Error {}

export class ZabbixApi {
    private token?: string;
    /** 7.0 takes the session as an Authorization header and logs every body `auth`; 6.0 takes only the body's. */
    private bearer?: boolean;

    /**
     * `urls`: entry points in order of preference, a call goes to the first that answers; `login`: the
     * user and password it logs in as (never put in a URL or a log line); `ca`: the stack's CA (PEM),
     * which every https:// entry point's certificate must verify against.
     */
    constructor(
        private readonly urls: readonly string[],
        private readonly login: Login,
        private readonly ca: string,
    ) {}

    async call<T>(method: string, params: unknown): Promise<T> {
        for (let attempt = 0; attempt < 2; attempt++) {
            if (this.bearer === undefined) {
                const version = await this.send<string>("apiinfo.version", []);
                this.bearer = !version.startsWith("6.");
            }
            if (!this.token && method !== "user.login") {
                this.token = await this.call<string>("user.login", {
                    username: this.login.user,
                    password: this.login.password,
                });
            }
            try {
                return await this.send<T>(method, params);
            } catch (err) {
                // A session lost with the database's last commits (async replication) is only a re-login away.
                if (
                    err instanceof ApiError &&
                    /re-login|not authori[sz]ed|session/i.test(err.message) &&
                    method !== "user.login"
                ) {
                    this.token = undefined;
                    continue;
                }
                throw err;
            }
        }
        throw new Error(`${method}: the API refused the session twice`);
    }

    private async send<T>(method: string, params: unknown): Promise<T> {
        // apiinfo.version and user.login are called without a session.
        const session = method === "user.login" || method === "apiinfo.version" ? undefined : this.token;
        const body = JSON.stringify({
            jsonrpc: "2.0",
            method,
            params,
            id: 1,
            ...(session && !this.bearer ? { auth: session } : {}),
        });
        const headers: Record<string, string> = session && this.bearer ? { Authorization: `Bearer ${session}` } : {};
        const problems: string[] = [];
        for (const url of this.urls) {
            let answer: HttpAnswer;
            try {
                answer = await httpRequest(url, { body, timeoutMs: 10_000, headers, ca: this.ca });
            } catch (err) {
                problems.push(`${url}: ${(err as Error).message}`);
                continue;
            }
            let parsed: { result?: T; error?: { message: string; data: string } };
            try {
                parsed = JSON.parse(answer.body);
            } catch {
                problems.push(`${url}: answered ${answer.status}: ${answer.body.slice(0, 120)}`);
                continue;
            }
            if (parsed.error) {
                throw new ApiError(`${method}: ${parsed.error.message} ${parsed.error.data}`);
            }
            return parsed.result as T;
        }
        throw new Error(`${method}: no entry point answered (${problems.join("; ")})`);
    }
}

/** The drill's host and trapper item (unsigned integers), made once; returns the item's id. */
export async function ensureDrillItem(api: ZabbixApi): Promise<string> {
    const items = await api.call<{ itemid: string }[]>("item.get", {
        host: DRILL_HOST,
        filter: { key_: DRILL_KEY },
        output: ["itemid"],
    });
    if (items.length > 0) {
        return items[0].itemid;
    }
    const hosts = await api.call<{ hostid: string }[]>("host.get", {
        filter: { host: DRILL_HOST },
        output: ["hostid"],
    });
    let hostid = hosts[0]?.hostid;
    if (!hostid) {
        const groups = await api.call<{ groupid: string }[]>("hostgroup.get", {
            filter: { name: DRILL_GROUP },
            output: ["groupid"],
        });
        const groupid =
            groups[0]?.groupid ??
            (await api.call<{ groupids: string[] }>("hostgroup.create", { name: DRILL_GROUP })).groupids[0];
        hostid = (await api.call<{ hostids: string[] }>("host.create", { host: DRILL_HOST, groups: [{ groupid }] }))
            .hostids[0];
    }
    // Type 2: Zabbix trapper (no agent needed); value type 3: numeric unsigned (history_uint).
    const created = await api.call<{ itemids: string[] }>("item.create", {
        hostid,
        name: "drill sequence",
        key_: DRILL_KEY,
        type: 2,
        value_type: 3,
    });
    return created.itemids[0];
}

export interface Marker {
    readonly key: string;
    readonly itemid: string;
}

/** A configuration change committed before a fault: one more trapper item on the drill host. */
export async function createMarker(api: ZabbixApi, label: string): Promise<Marker> {
    const [host] = await api.call<{ hostid: string }[]>("host.get", {
        filter: { host: DRILL_HOST },
        output: ["hostid"],
    });
    const key = `drill.marker[${label.replace(/[^A-Za-z0-9_.-]/g, "_")},${Date.now()}]`;
    const created = await api.call<{ itemids: string[] }>("item.create", {
        hostid: host.hostid,
        name: `marker ${label}`,
        key_: key,
        type: 2,
        value_type: 3,
    });
    return { key, itemid: created.itemids[0] };
}

export async function markerPresent(api: ZabbixApi, marker: Marker): Promise<boolean> {
    const found = await api.call<unknown[]>("item.get", {
        host: DRILL_HOST,
        filter: { key_: marker.key },
        output: ["itemid"],
    });
    return found.length > 0;
}

export async function removeMarker(api: ZabbixApi, marker: Marker): Promise<void> {
    await api.call("item.delete", [marker.itemid]);
}
