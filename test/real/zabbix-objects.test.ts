/**
 * The Zabbix objects step (ZabbixObjects) against a live Zabbix 7.0 API: Debian 13's frontend
 * (debian13-sites.ts) over HTTPS on 127.0.0.1, verified against the test CA installed as the stack's,
 * and its PostgreSQL 17 holding the schema the library's schema step loaded. The rendered script runs
 * with the frontend host's sh, curl and jq, as the step runs it (secrets on stdin): the first run makes
 * the proxy group, the proxies and the hosts; the second changes nothing and says nothing; a changed
 * min_online changes the group alone, a new PSK its object alone, and what leaves the stack goes.
 */
import { randomBytes } from "crypto";
import { CA_FILE } from "../../components/pki/files";
import { DATA_PATH_ITEM_KEY, DATA_PATH_TEMPLATE, dataPathTemplate } from "../../components/proxy";
import {
    OBJECTS_SECRETS,
    ZabbixObjectsScriptInput,
    objectKey,
    objectsMarker,
    pskRecordFile,
    renderZabbixObjectsScript,
} from "../../components/zabbix/render";
import { SUPER_ADMIN_USER } from "../../components/zabbix/superAdmin";
import { RunResult, TestPki, ok, password, scratchSpace, testPki } from "./support";
import { Debian13Root, ensureDebian13Root } from "./support/debian13";
import { Frontend, Pg17, loadZabbixDatabase, startFrontend, startPostgres17 } from "./debian13-sites";
import { SUPER_ADMIN_PASSWORD, runStep } from "./zabbix-db";
import { api } from "./zabbix-frontends";

jest.setTimeout(300_000);

/** What the lab's idempotence check takes for a change in a step's output. */
const CHANGE_LINE = /^(updated \S|installing:|loading the Zabbix schema)/m;
const INSTALLATION = "zabbix";
const GROUP = "zha-all-sites";

const scratch = scratchSpace();
const dbPassword = password();
let root: Debian13Root;
let pki: TestPki;
let db: Pg17;
let site: Frontend;

const psk = () => randomBytes(32).toString("hex");
const keys: Record<string, string> = {
    [objectKey("proxy", "zha-proxy-east")]: psk(),
    [objectKey("proxy", "zha-proxy-west")]: psk(),
    [objectKey("host", "zha-app-east")]: psk(),
    [objectKey("host", "zha-app-west")]: psk(),
    [objectKey("host", "zha-app-direct")]: psk(),
};

/** Two proxies in one group, two hosts it monitors and one the servers monitor. */
function objects(minOnline = 1): ZabbixObjectsScriptInput {
    return {
        apiUrl: site.url,
        apiUser: SUPER_ADMIN_USER,
        caFile: CA_FILE,
        installation: INSTALLATION,
        recordFile: pskRecordFile(INSTALLATION),
        hostGroup: "zha monitored hosts",
        proxyGroups: [{ name: GROUP, failoverDelaySeconds: 60, minOnline }],
        proxies: ["east", "west"].map((s, i) => ({
            name: `zha-proxy-${s}`,
            group: GROUP,
            address: `198.18.${i + 1}.20`,
            port: 10051,
            pskIdentity: `zabbix-ha-proxy-zha-proxy-${s}`,
        })),
        hosts: [
            ...["east", "west"].map(s => ({
                name: `zha-app-${s}`,
                group: GROUP,
                pskIdentity: `zabbix-ha-agent-zha-app-${s}`,
            })),
            { name: "zha-app-direct", pskIdentity: "zabbix-ha-agent-zha-app-direct" },
        ],
        template: dataPathTemplate(1),
    };
}

/** Runs the rendered step on the frontend host, its secrets on stdin; fails the test when it fails. */
async function objectsStep(input: ZabbixObjectsScriptInput, psks = keys): Promise<RunResult> {
    const wanted = [
        ...input.proxies.map(p => objectKey("proxy", p.name)),
        ...input.hosts.map(h => objectKey("host", h.name)),
    ];
    const result = await runStep(
        renderZabbixObjectsScript(input),
        {
            [OBJECTS_SECRETS.password]: SUPER_ADMIN_PASSWORD,
            [OBJECTS_SECRETS.psks]: JSON.stringify(Object.fromEntries(wanted.map(k => [k, psks[k]]))),
        },
        site.host,
    );
    return result;
}

const changes = (r: RunResult) =>
    ok(r)
        .stdout.split("\n")
        .filter(l => CHANGE_LINE.test(l));

async function read() {
    const auth = await api<string>(site, "user.login", { username: "Admin", password: SUPER_ADMIN_PASSWORD });
    const call = <T = any>(method: string, params: unknown) => api<T>(site, method, params, auth, "header");
    const groups = await call("proxygroup.get", {
        output: ["proxy_groupid", "name", "failover_delay", "min_online", "description"],
    });
    const proxies = await call("proxy.get", {
        output: [
            "proxyid",
            "name",
            "operating_mode",
            "proxy_groupid",
            "local_address",
            "local_port",
            "tls_accept",
            "description",
        ],
    });
    const hosts = await call("host.get", {
        output: ["hostid", "host", "monitored_by", "proxy_groupid", "tls_connect", "tls_accept", "description"],
        selectHostGroups: ["name"],
        selectParentTemplates: ["host"],
    });
    const templates = await call("template.get", {
        output: ["host", "description"],
        filter: { host: [DATA_PATH_TEMPLATE] },
        selectItems: ["key_", "type", "value_type", "delay"],
    });
    await call("user.logout", []);
    return { groups, proxies, hosts, templates };
}

/** What the database holds of each object's PSK (the API never returns it). */
const storedPsks = () =>
    db.sql(
        "select name, tls_psk_identity, tls_psk from proxy union all select host, tls_psk_identity, tls_psk from hosts where tls_psk <> '' order by 1",
        "zabbix",
    );

beforeAll(async () => {
    root = await ensureDebian13Root();
    pki = await testPki(scratch);
    db = await startPostgres17(scratch, root, ["zabbix"], pki);
    ok(await loadZabbixDatabase(db, dbPassword));
    site = await startFrontend(
        scratch,
        root,
        "objects",
        { port: db.port, dbName: "zabbix", password: dbPassword },
        pki,
    );
}, 30 * 60_000);

describe("the Zabbix objects step against Zabbix 7.0's API", () => {
    let first: RunResult;
    beforeAll(async () => {
        first = await objectsStep(objects());
    });

    test("the first run makes the proxy group, both proxies, the host group and the three hosts, and says so", () => {
        expect(changes(first)).toEqual([
            `updated proxy group ${GROUP} (created)`,
            "updated proxy zha-proxy-east (created)",
            "updated proxy zha-proxy-west (created)",
            "updated host group zha monitored hosts (created)",
            `updated template ${DATA_PATH_TEMPLATE} (created)`,
            `updated item ${DATA_PATH_ITEM_KEY} of template ${DATA_PATH_TEMPLATE} (created)`,
            "updated host zha-app-east (created)",
            "updated host zha-app-west (created)",
            "updated host zha-app-direct (created)",
            `updated ${pskRecordFile(INSTALLATION)}`,
        ]);
    });

    test("what the API reads back is what the stack says, and the database holds each PSK", async () => {
        const { groups, proxies, hosts, templates } = await read();
        const marker = objectsMarker(INSTALLATION);
        const [group] = groups;
        expect(groups).toEqual([
            {
                proxy_groupid: group.proxy_groupid,
                name: GROUP,
                failover_delay: "60s",
                min_online: "1",
                description: marker,
            },
        ]);
        expect(proxies).toEqual(
            ["east", "west"].map((s, i) => ({
                proxyid: expect.any(String),
                name: `zha-proxy-${s}`,
                operating_mode: "0",
                proxy_groupid: group.proxy_groupid,
                local_address: `198.18.${i + 1}.20`,
                local_port: "10051",
                tls_accept: "2",
                description: marker,
            })),
        );
        const byName = (name: string) => hosts.find((h: { host: string }) => h.host === name);
        for (const name of ["zha-app-east", "zha-app-west"]) {
            expect(byName(name)).toMatchObject({
                monitored_by: "2",
                proxy_groupid: group.proxy_groupid,
                tls_connect: "2",
                tls_accept: "2",
                description: marker,
                hostgroups: [{ name: "zha monitored hosts" }],
                parentTemplates: [{ host: DATA_PATH_TEMPLATE }],
            });
        }
        expect(templates).toEqual([
            {
                templateid: expect.any(String),
                host: DATA_PATH_TEMPLATE,
                description: marker,
                items: [{ key_: DATA_PATH_ITEM_KEY, type: "7", value_type: "3", delay: "1s" }],
            },
        ]);
        expect(byName("zha-app-direct")).toMatchObject({
            monitored_by: "0",
            tls_accept: "2",
            description: marker,
            parentTemplates: [{ host: DATA_PATH_TEMPLATE }],
        });
        // The schema's own host is not the stack's, and stays as it was.
        expect(byName("Zabbix server")).toMatchObject({ description: "" });
        expect((await storedPsks()).split("\n")).toEqual(
            [
                ["zha-app-direct", "zabbix-ha-agent-zha-app-direct", keys["host/zha-app-direct"]],
                ["zha-app-east", "zabbix-ha-agent-zha-app-east", keys["host/zha-app-east"]],
                ["zha-app-west", "zabbix-ha-agent-zha-app-west", keys["host/zha-app-west"]],
                ["zha-proxy-east", "zabbix-ha-proxy-zha-proxy-east", keys["proxy/zha-proxy-east"]],
                ["zha-proxy-west", "zabbix-ha-proxy-zha-proxy-west", keys["proxy/zha-proxy-west"]],
            ].map(r => r.join("|")),
        );
        // The record is root's alone, and holds hashes, never a key.
        const record = site.host.read(pskRecordFile(INSTALLATION));
        expect(Object.values(keys).some(k => record.includes(k))).toBe(false);
        expect(ok(await site.host.run("stat", ["-c", "%a %U", pskRecordFile(INSTALLATION)])).stdout.trim()).toBe(
            "600 root",
        );
    });

    test("the second run changes nothing and prints no change", async () => {
        const before = { objects: await read(), psks: await storedPsks() };
        const again = await objectsStep(objects());
        expect(changes(again)).toEqual([]);
        expect({ objects: await read(), psks: await storedPsks() }).toEqual(before);
    });

    test("a changed min_online updates the group alone", async () => {
        const before = await read();
        expect(changes(await objectsStep(objects(2)))).toEqual([`updated proxy group ${GROUP} (min_online)`]);
        const after = await read();
        expect(after.groups[0].min_online).toBe("2");
        expect({ proxies: after.proxies, hosts: after.hosts }).toEqual({
            proxies: before.proxies,
            hosts: before.hosts,
        });
        expect(changes(await objectsStep(objects(2)))).toEqual([]);
    });

    test("a changed check interval updates the template's item alone, and back", async () => {
        const slower = { ...objects(2), template: dataPathTemplate(30) };
        expect(changes(await objectsStep(slower))).toEqual([
            `updated item ${DATA_PATH_ITEM_KEY} of template ${DATA_PATH_TEMPLATE} (delay)`,
        ]);
        expect((await read()).templates[0].items[0].delay).toBe("30s");
        expect(changes(await objectsStep(objects(2)))).toEqual([
            `updated item ${DATA_PATH_ITEM_KEY} of template ${DATA_PATH_TEMPLATE} (delay)`,
        ]);
    });

    test("a new PSK is sent for its object alone", async () => {
        const rotated = { ...keys, [objectKey("host", "zha-app-west")]: psk() };
        expect(changes(await objectsStep(objects(2), rotated))).toEqual([
            "updated host zha-app-west (tls_psk)",
            `updated ${pskRecordFile(INSTALLATION)}`,
        ]);
        expect(await storedPsks()).toContain(
            `zha-app-west|zabbix-ha-agent-zha-app-west|${rotated["host/zha-app-west"]}`,
        );
        keys[objectKey("host", "zha-app-west")] = rotated[objectKey("host", "zha-app-west")];
    });

    test("a host of the same name that the stack did not make is refused, not taken over", async () => {
        const input = objects(2);
        const refused = await objectsStep(
            { ...input, hosts: [...input.hosts, { name: "Zabbix server", pskIdentity: "x" }] },
            {
                ...keys,
                [objectKey("host", "Zabbix server")]: psk(),
            },
        );
        expect(refused.code).not.toBe(0);
        expect(refused.output).toMatch(/host Zabbix server exists, and zabbix-ha did not make it/);
    });

    test("a proxy and a host that leave the stack are deleted; what the stack did not make stays", async () => {
        const input = objects(2);
        const fewer = {
            ...input,
            proxies: input.proxies.filter(p => p.name !== "zha-proxy-west"),
            hosts: input.hosts.filter(h => h.name !== "zha-app-direct"),
        };
        expect(changes(await objectsStep(fewer))).toEqual([
            "updated proxy zha-proxy-west (deleted: no longer in the stack)",
            "updated host zha-app-direct (deleted: no longer in the stack)",
            `updated ${pskRecordFile(INSTALLATION)}`,
        ]);
        const { proxies, hosts } = await read();
        expect(proxies.map((p: { name: string }) => p.name)).toEqual(["zha-proxy-east"]);
        expect(hosts.map((h: { host: string }) => h.host).sort()).toEqual([
            "Zabbix server",
            "zha-app-east",
            "zha-app-west",
        ]);
    });
});
