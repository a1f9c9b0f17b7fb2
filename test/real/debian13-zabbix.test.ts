/**
 * Zabbix 7.0 on Debian 13 run for real in sessions of the Debian 13 root (debian13-sites.ts):
 * PostgreSQL 17 started with the rendered drop-ins and pg_hba.conf takes the 7.0 schema from the
 * library's own schema step; two frontends (Debian's nginx 1.26 and php-fpm 8.4 with the rendered
 * site, pool and zabbix.conf.php) answer the 7.0 API; and the rendered config sync script, run with
 * Debian 13's sh, curl and jq, copies a host from one to the other, its session token in an
 * Authorization header (7.0 logs every use of the body's `auth`, which 7.2 removes).
 */
import { existsSync } from "fs";
import {
    EXPORT_OMITTED_SECRETS,
    SERVER_PASSWORD_INCLUDE,
    renderConfigSyncScript,
    objectsMarker,
    renderZabbixServerConf,
} from "../../components/zabbix/render";
import { CONFIG_SYNC_PASSWORD, CONFIG_SYNC_SCRIPT } from "../../components/zabbix/steps";
import { CA_FILE } from "../../components/pki/files";
import { SELF_RUN_DB_TLS } from "../../components/postgres/tls";
import {
    RunResult,
    TestPki,
    freePort,
    loopbackHbaRules,
    ok,
    password,
    scratchSpace,
    testPki,
    waitFor,
} from "./support";
import { Debian13Root, ensureDebian13Root } from "./support/debian13";
import {
    Frontend,
    LAYOUT,
    Pg17,
    dbSettings,
    loadZabbixDatabase,
    startFrontend,
    startPostgres17,
} from "./debian13-sites";
import { SUPER_ADMIN_PASSWORD, loopbackSchemaStep, runStep, schemaSecrets, sizing } from "./zabbix-db";
import { api, argvShimText } from "./zabbix-frontends";

jest.setTimeout(300_000);

const scratch = scratchSpace();
const dbPassword = password();
/** What 7.0's API logs (through php-fpm to nginx's error log) for each call with the token in the body. */
const BODY_AUTH_DEPRECATED = /Parameter "\/auth" is deprecated/;
const TARGET_DB = "zabbix_target";

let root: Debian13Root;
/** Installed in each session where a host keeps the stack's PKI. */
let pki: TestPki;
let db: Pg17;
let schemaLoad: RunResult;
let source: Frontend;
let target: Frontend;
/** Admin's password on both sites, as the schema step set it (never the schema's `zabbix`). */
const adminPassword = SUPER_ADMIN_PASSWORD;

beforeAll(async () => {
    root = await ensureDebian13Root();
    pki = await testPki(scratch);
    db = await startPostgres17(scratch, root, ["zabbix", TARGET_DB], pki);
    schemaLoad = await loadZabbixDatabase(db, dbPassword);
}, 30 * 60_000);

describe("PostgreSQL 17 with the rendered drop-ins and pg_hba.conf", () => {
    test("every line of the rendered drop-ins is read and applied, without error", async () => {
        const rows = await db.sql(
            "select regexp_replace(sourcefile, '.*/', ''), name, applied, coalesce(error, '') from pg_file_settings where sourcefile like '%/conf.d/%' order by seqno",
        );
        // include_dir reads its files in the order of their names.
        const rendered = Object.entries(dbSettings(db.port))
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .flatMap(([file, text]) =>
                text
                    .split("\n")
                    .filter(l => /^\w+ = /.test(l))
                    .map(l => `${file}|${l.split(" = ")[0]}|t|`),
            );
        expect(rows.split("\n")).toEqual(rendered);
        expect(await db.sql("show server_version")).toMatch(/^17\./);
        expect(await db.sql("show password_encryption")).toBe("scram-sha-256");
    });

    test("every rendered hba rule is read without error", async () => {
        const rows = await db.sql(
            "select type, database[1], user_name[1], coalesce(address, ''), auth_method, coalesce(error, '') from pg_hba_file_rules order by rule_number",
        );
        expect(rows.split("\n")).toEqual([
            "local|all|postgres||peer|",
            ...["zabbix", TARGET_DB]
                .flatMap(n => loopbackHbaRules(n))
                .map(r => `hostssl|${r.database}|${r.user}|${r.source.split("/")[0]}|scram-sha-256|`),
        ]);
    });

    test("the library's schema step loads Zabbix 7.0's schema through TCP as role zabbix", async () => {
        expect(ok(schemaLoad).output).toMatch(/loading the Zabbix schema/);
        const [mandatory] = (await db.sql("select mandatory from dbversion", "zabbix")).split("\n");
        expect(Number(mandatory)).toBeGreaterThanOrEqual(7000000);
        expect(Number(mandatory)).toBeLessThan(7010000);
        // Owned by the role the servers log in as, as the step is meant to leave it.
        expect(await db.sql("select tableowner from pg_tables where tablename = 'ha_node'", "zabbix")).toBe("zabbix");
        const again = ok(
            await runStep(
                loopbackSchemaStep(db, "zabbix", SELF_RUN_DB_TLS, LAYOUT.schemaFiles),
                schemaSecrets(dbPassword),
                db.host,
            ),
        );
        expect(again.output).toMatch(/Zabbix schema already loaded/);
    });
});

describe("two Zabbix 7.0 frontends and the config sync script between them", () => {
    const HOST = "zha-sync-host";
    const OBJECTS_HOST = "zha-objects-host";
    const TEMPLATE = "zha sync template";
    const GROUP = "zha sync group";
    const login = (site: Frontend, pw = adminPassword) =>
        api<string>(site, "user.login", { username: "Admin", password: pw });

    beforeAll(async () => {
        // The second site's database: a file-level copy of the loaded one, while nothing is connected.
        await db.sql(`create database ${TARGET_DB} template zabbix owner zabbix`);
        const dbOf = (dbName: string) => ({ port: db.port, dbName, password: dbPassword });
        [source, target] = await Promise.all([
            startFrontend(scratch, root, "source", dbOf("zabbix"), pki),
            startFrontend(scratch, root, "target", dbOf(TARGET_DB), pki),
        ]);
    }, 120_000);

    test("each answers the API as Zabbix 7.0, logs Admin in with the stack's password only, and takes the token in a Bearer header", async () => {
        for (const site of [source, target]) {
            expect(await api<string>(site, "apiinfo.version", [])).toMatch(/^7\.0\./);
            // The schema's own password never worked: the step set the stack's in the load's transaction.
            await expect(login(site, "zabbix")).rejects.toThrow(/Incorrect user name or password/);
            const token = await login(site);
            expect(token).toMatch(/^[0-9a-f]{32}$/);
            const hosts = await api<{ host: string }[]>(site, "host.get", { output: ["host"] }, token, "header");
            expect(hosts.map(h => h.host)).toContain("Zabbix server");
            await expect(api(site, "host.get", { output: ["host"] })).rejects.toThrow(/Not authorized/);
        }
        expect(source.errorLog()).not.toMatch(BODY_AUTH_DEPRECATED);
    });

    test("the token in the body still works on 7.0, and nginx's error log shows the deprecation for it", async () => {
        const token = await login(source);
        const before = source.errorLog().length;
        await api(source, "host.get", { output: ["host"] }, token, "body");
        expect(source.errorLog().slice(before)).toMatch(BODY_AUTH_DEPRECATED);
        await api(source, "user.logout", [], token, "header");
    });

    test("every field 7.0's export leaves out of what the sync carries is one the script puts back", () => {
        const builder = source.host.read(
            `${LAYOUT.frontendRoot}/include/classes/export/CConfigurationExportBuilder.php`,
        );
        // Lines the builder has commented out, as `//  'field' => $object['field'],`; media types are not synced.
        const left = [...builder.matchAll(/^\/\/\s+'(\w+)' => \$(\w+)\[/gm)]
            .filter(([, , object]) => object !== "media_type")
            .map(([, field]) => field);
        expect(left.length).toBeGreaterThan(0);
        const restored = new Set(EXPORT_OMITTED_SECRETS.flatMap(m => m.secrets));
        expect(left.filter(field => !restored.has(field))).toEqual([]);
    });

    /** What the source holds that 7.0's export leaves out; the sync must carry it all the same. */
    // 20 characters: IPMI passwords are no longer.
    const secret = password(20);
    const JMX_KEY = 'jmx["java.lang:type=Runtime","Uptime"]';

    test("the script copies a group, a template and a host with their secrets (not a host the objects step made), the token in a header and never on a command line", async () => {
        const auth = await login(source);
        const call = <T = any>(method: string, params: unknown) => api<T>(source, method, params, auth, "header");
        const [groupid] = (await call("hostgroup.create", { name: GROUP })).groupids;
        const [templateGroupid] = (await call("templategroup.create", { name: GROUP })).groupids;
        const [templateid] = (await call("template.create", { host: TEMPLATE, groups: [{ groupid: templateGroupid }] }))
            .templateids;
        await call("item.create", {
            ...{ hostid: templateid, name: "zha jmx uptime", key_: JMX_KEY, type: 16, value_type: 3, delay: "1m" },
            ...{ username: "zha-jmx", password: secret },
        });
        const [hostid] = (
            await call("host.create", {
                ...{ host: HOST, groups: [{ groupid }], templates: [{ templateid }] },
                // The template's JMX item needs a JMX interface on the host.
                interfaces: [{ type: 4, main: 1, useip: 1, ip: "127.0.0.1", dns: "", port: "12345" }],
                ...{ ipmi_authtype: 2, ipmi_username: "zha-ipmi", ipmi_password: secret },
            })
        ).hostids;
        await call("item.create", {
            ...{
                hostid,
                name: "zha http",
                key_: "zha.http",
                type: 19,
                value_type: 4,
                delay: "1m",
                url: "http://127.0.0.1/",
            },
            ...{ authtype: 1, username: "zha-http", password: secret },
        });
        await call("httptest.create", {
            ...{ hostid, name: "zha web", steps: [{ no: 1, name: "front page", url: "http://127.0.0.1/" }] },
            ...{ authentication: 1, http_user: "zha-web", http_password: secret },
        });
        // A host the source's objects step made: its own installation's, never copied.
        await call("host.create", { host: OBJECTS_HOST, groups: [{ groupid }], description: objectsMarker("source") });
        await call("user.logout", []);

        // Installed where the config sync step installs them; jq and curl through argv-logging shims.
        const sync = source.host;
        await sync.put(CONFIG_SYNC_PASSWORD, `${adminPassword}\n`, 0o600);
        const text = renderConfigSyncScript({
            sourceUrl: source.url,
            targetUrls: [target.url],
            apiUser: "Admin",
            passwordFile: CONFIG_SYNC_PASSWORD,
            caFile: CA_FILE,
        });
        await sync.put(CONFIG_SYNC_SCRIPT, text, 0o700);
        const argvLog = "/tmp/zha-argv.log";
        for (const tool of ["jq", "curl"]) {
            await sync.put(`/usr/local/lib/zha-shims/${tool}`, argvShimText(tool, argvLog, `/usr/bin/${tool}`), 0o755);
        }
        const logged = [source, target].map(s => s.errorLog().length);
        const result = await sync.run("sh", [CONFIG_SYNC_SCRIPT], {
            env: { PATH: "/usr/local/lib/zha-shims:/usr/sbin:/usr/bin:/sbin:/bin" },
            timeoutMs: 240_000,
        });
        if (result.code !== 0) {
            throw new Error(
                `the sync exited ${result.code ?? result.signal}:\n${result.output}\n${source.logs()}\n${target.logs()}`,
            );
        }
        expect(result.output).toContain(`synchronised configuration from ${source.url} to ${target.url}`);

        const targetAuth = await login(target);
        const get = <T = any>(method: string, params: unknown) => api<T>(target, method, params, targetAuth, "header");
        const [copied] = await get("host.get", {
            ...{ filter: { host: [HOST] }, output: ["host", "ipmi_username", "ipmi_password"] },
            ...{ selectHostGroups: ["name"], selectParentTemplates: ["host"] },
        });
        expect(copied).toMatchObject({ ipmi_username: "zha-ipmi", ipmi_password: secret });
        expect(copied.hostgroups.map((g: { name: string }) => g.name)).toEqual([GROUP]);
        expect(copied.parentTemplates.map((t: { host: string }) => t.host)).toEqual([TEMPLATE]);
        const items = await get("item.get", { host: HOST, output: ["key_", "username", "password", "templateid"] });
        expect(items.map((i: { key_: string }) => i.key_).sort()).toEqual([JMX_KEY, "zha.http"].sort());
        expect(items.find((i: { key_: string }) => i.key_ === "zha.http")).toMatchObject({
            username: "zha-http",
            password: secret,
        });
        const [jmx] = await get("item.get", { templated: true, host: TEMPLATE, output: ["username", "password"] });
        expect(jmx).toMatchObject({ username: "zha-jmx", password: secret });
        const [web] = await get("httptest.get", { hostids: copied.hostid, output: ["http_user", "http_password"] });
        expect(web).toMatchObject({ http_user: "zha-web", http_password: secret });
        expect(await get("host.get", { filter: { host: [OBJECTS_HOST] }, output: ["host"] })).toEqual([]);

        // Neither frontend logged a token in the body during the run: it went in the header.
        [source, target].forEach((site, i) =>
            expect(site.errorLog().slice(logged[i])).not.toMatch(BODY_AUTH_DEPRECATED),
        );
        const argv = sync.read(argvLog);
        expect(argv).toMatch(/^curl .* -H @\S+ .*api_jsonrpc\.php$/m);
        expect(argv).not.toContain(adminPassword);
        expect(argv).not.toContain(secret);
        expect(argv).not.toMatch(/\b[0-9a-f]{32}\b/);
    });
});

describe("Zabbix 7.0's server with the rendered zabbix_server.conf", () => {
    test("a node rendered for native HA starts as Debian's unit starts it, and the API reports it active", async () => {
        // An all-roles host: the server on the source frontend's host, against the loaded database.
        const host = source.host;
        const listenPort = await freePort();
        const conf = renderZabbixServerConf({
            ...{ version: "7.0", nodeName: "zha-node", nodeAddress: "127.0.0.1", listenPort, sizing },
            ...{ dbHost: "127.0.0.1", dbPort: db.port, dbName: "zabbix", dbUser: "zabbix", dbTls: SELF_RUN_DB_TLS },
            ...{ passwordInclude: SERVER_PASSWORD_INCLUDE, logFile: LAYOUT.logFile, pidFile: LAYOUT.pidFile },
            socketDir: LAYOUT.socketDir,
        });
        await host.put(LAYOUT.serverConfig, conf, 0o640, "root:zabbix");
        await host.put(SERVER_PASSWORD_INCLUDE, `DBPassword=${dbPassword}\n`, 0o640, "root:zabbix");
        // systemd-tmpfiles makes it on a host (Debian's tmpfiles.d: d /run/zabbix 0755 zabbix zabbix).
        await host.mkdir(LAYOUT.socketDir, "zabbix");
        // The unit's ExecStart, as its User=: the config from the compiled-in default path.
        const server = host.start("zabbix_server 7.0", "/usr/sbin/zabbix_server", ["--foreground"], { user: "zabbix" });
        scratch.defer("stop zabbix_server 7.0", () => server.stop());
        const log = () => (existsSync(host.path(LAYOUT.logFile)) ? host.read(LAYOUT.logFile) : "(no log yet)");
        const auth = await api<string>(source, "user.login", { username: "Admin", password: adminPassword });
        const nodes = await waitFor(
            "the node to be active in hanode.get",
            async () => {
                const seen = await api<{ name: string; status: string; address: string; port: string }[]>(
                    source,
                    "hanode.get",
                    { output: ["name", "status", "address", "port"] },
                    auth,
                    "header",
                );
                return seen.some(n => n.name === "zha-node" && n.status === "3") ? seen : undefined;
            },
            { timeoutMs: 60_000, watch: [server], detail: () => `${server.output()}\n--- log:\n${log()}` },
        );
        expect(nodes).toEqual([{ name: "zha-node", status: "3", address: "127.0.0.1", port: String(listenPort) }]);
        expect(log()).toMatch(/Starting Zabbix Server\. Zabbix 7\.0\./);
        expect(log()).toMatch(/HA manager started in active mode/);
        expect(log()).not.toMatch(/unknown parameter|cannot (open|parse)|\[Z3001\]/);
        await server.stop();
    });
});
