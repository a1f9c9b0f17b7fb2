/**
 * Pattern 2's configuration sync script, run for real: the rendered script (sh + curl + jq) copies
 * a host group, a template and a host with an item from one real Zabbix 6.0 frontend's API to
 * another's (see zabbix-frontends.ts), each with its own scratch database on loopback. No Zabbix
 * server runs: the API's configuration methods only need the database.
 */
import { existsSync } from "fs";
import * as path from "path";
import { randomBytes } from "crypto";
import { DATA_PATH_ITEM_KEY, DATA_PATH_TEMPLATE, dataPathTemplate } from "../../components/proxy";
import {
    OBJECTS_SECRETS,
    ZabbixObjectsScriptInput,
    objectKey,
    objectsMarker,
    renderConfigSyncScript,
    renderZabbixObjectsScript,
} from "../../components/zabbix/render";
import {
    ok,
    password,
    putFile,
    requireFile,
    requirePhpExtension,
    requireTool,
    run,
    scratchSpace,
    TestPki,
    testPki,
} from "./support";
import {
    SCHEMA_FILES,
    SUPER_ADMIN_PASSWORD,
    loopbackSchemaStep,
    runStep,
    schemaSecrets,
    zabbixCluster,
} from "./zabbix-db";
import { FRONTEND_ROOT, Site, api, argvShim, readIf, startFrontend } from "./zabbix-frontends";

jest.setTimeout(660_000);

const scratch = scratchSpace();
const dbPassword = password();

describe("the config sync script between two real Zabbix 6.0 frontends", () => {
    let source: Site;
    let target: Site;
    let work: string;
    let syncScript: string;
    let passwordFile: string;
    let pki: TestPki;
    /** Admin's password on both sites, as the schema step set it: a unique needle too. */
    const adminPassword = SUPER_ADMIN_PASSWORD;
    const HOST = "zha-sync-host";
    const TEMPLATE = "zha sync template";
    const GROUP = "zha sync group";
    const DEPENDENT = "zha-dep-a";
    const DEPENDED_ON = "zha-dep-b";

    /** Runs the rendered script with sh, every jq and curl call going through argv-logging shims. */
    async function runSync(file = passwordFile) {
        const shims = await scratch.dir("shims");
        const argvLog = path.join(shims, "argv.log");
        await argvShim(shims, "jq", argvLog);
        await argvShim(shims, "curl", argvLog);
        const text = renderConfigSyncScript({
            sourceUrl: source.url,
            targetUrls: [target.url],
            apiUser: "Admin",
            passwordFile: file,
            caFile: pki.client.caFile,
        });
        syncScript = await putFile(path.join(work, "zabbix-ha-config-sync"), text, 0o755);
        const result = await run("sh", [syncScript], {
            env: { PATH: `${shims}:/usr/sbin:/usr/bin:/sbin:/bin` },
            // A guard against a hang, not a speed target: the first sync of a stock 6.0 database (300-odd
            // templates) took 72 to 83 s here, and passed 120 s when other real tests loaded both cores.
            timeoutMs: 600_000,
        });
        return { ...result, argv: readIf(argvLog) };
    }

    beforeAll(async () => {
        ["jq", "curl", "unshare", "mount", "nginx", "php-fpm8.2", "pg_dump", "pg_restore"].forEach(requireTool);
        SCHEMA_FILES.forEach(requireFile);
        requireFile(`${FRONTEND_ROOT}/api_jsonrpc.php`);
        await requirePhpExtension("pgsql");
        if (!existsSync("/etc/zabbix")) {
            throw new Error(
                "/etc/zabbix (the frontend's fixed config dir, bound over per instance) not found: apt-get install --no-install-recommends zabbix-frontend-php",
            );
        }
        work = await scratch.dir("config-sync");
        pki = await testPki(scratch);

        const db = await zabbixCluster(scratch, "zabbix-sites", dbPassword, ["zabbix_source", "zabbix_target"], pki);
        for (const name of ["zabbix_source", "zabbix_target"]) {
            await db.sql(
                `create database ${name} owner zabbix encoding 'UTF8' lc_collate 'C' lc_ctype 'C' template template0`,
            );
        }
        // The schema once, by the library's own step; the second site's database from a pg_dump -Fc copy.
        ok(await runStep(loopbackSchemaStep(db, "zabbix_source", pki.db), schemaSecrets(dbPassword)));
        const dump = path.join(db.dir, "zabbix.dump");
        ok(
            await run("pg_dump", ["-Fc", "-h", db.dir, "-p", String(db.port), "-d", "zabbix_source", "-f", dump], {
                user: "postgres",
                cwd: db.dir,
            }),
        );
        ok(
            await run(
                "pg_restore",
                ["--exit-on-error", "-h", db.dir, "-p", String(db.port), "-d", "zabbix_target", dump],
                { user: "postgres", cwd: db.dir, timeoutMs: 120_000 },
            ),
        );
        // Neither the load nor the restore leaves planner statistics, and until autovacuum gets to them
        // (a minute on a real host) 6.0's template-linking queries take minutes: analyze now.
        await db.sql("analyze", "zabbix_source");
        await db.sql("analyze", "zabbix_target");

        [source, target] = await Promise.all([
            startFrontend(scratch, "source", db, "zabbix_source", dbPassword, pki),
            startFrontend(scratch, "target", db, "zabbix_target", dbPassword, pki),
        ]);
        // The schema step set the stack's Super Admin password on the source; the copy carries it to the target.
        passwordFile = await putFile(path.join(work, "config-sync.password"), `${adminPassword}\n`, 0o600);

        // What an operator configures on the source site: a group, a template with an item, a host
        // in the group with a trapper item, linked to that template and to a stock one.
        const auth = await api<string>(source, "user.login", { username: "Admin", password: adminPassword });
        const [groupid] = (await api(source, "hostgroup.create", { name: GROUP }, auth)).groupids;
        const [stock] = await api(
            source,
            "template.get",
            { output: ["templateid"], filter: { host: ["Linux by Zabbix agent"] } },
            auth,
        );
        expect(stock).toBeDefined();
        const [templateid] = (await api(source, "template.create", { host: TEMPLATE, groups: [{ groupid }] }, auth))
            .templateids;
        await api(
            source,
            "item.create",
            { hostid: templateid, name: "zha template trapper", key_: "zha.template.trapper", type: 2, value_type: 3 },
            auth,
        );
        const [hostid] = (
            await api(
                source,
                "host.create",
                {
                    host: HOST,
                    groups: [{ groupid }],
                    interfaces: [{ type: 1, main: 1, useip: 1, ip: "127.0.0.1", dns: "", port: "10050" }],
                    templates: [{ templateid }, { templateid: stock.templateid }],
                },
                auth,
            )
        ).hostids;
        await api(
            source,
            "item.create",
            { hostid, name: "zha sync trapper", key_: "zha.sync.trapper", type: 2, value_type: 3 },
            auth,
        );

        // A trigger that depends on another host's, that host a whole batch later (the script
        // exports and imports hosts BATCH at a time, oldest first): the dependent one's batch fails
        // to import until the other batch is in.
        const batch = Number(
            /^BATCH=(\d+)$/m.exec(
                renderConfigSyncScript({ sourceUrl: "", targetUrls: [], apiUser: "", passwordFile: "", caFile: "" }),
            )?.[1],
        );
        expect(batch).toBeGreaterThan(0);
        const trapperHost = async (name: string) => {
            const [id] = (await api(source, "host.create", { host: name, groups: [{ groupid }] }, auth)).hostids;
            await api(
                source,
                "item.create",
                { hostid: id, name: "zha dependency trapper", key_: "zha.dep", type: 2, value_type: 3 },
                auth,
            );
        };
        await trapperHost(DEPENDENT);
        await api(
            source,
            "host.create",
            Array.from({ length: batch }, (_, i) => ({ host: `zha-filler-${i}`, groups: [{ groupid }] })),
            auth,
        );
        await trapperHost(DEPENDED_ON);
        const [upstream] = (
            await api(
                source,
                "trigger.create",
                { description: "zha upstream down", expression: `last(/${DEPENDED_ON}/zha.dep)=0` },
                auth,
            )
        ).triggerids;
        await api(
            source,
            "trigger.create",
            {
                description: "zha dependent down",
                expression: `last(/${DEPENDENT}/zha.dep)=0`,
                dependencies: [{ triggerid: upstream }],
            },
            auth,
        );
        await api(source, "user.logout", [], auth);
    });

    /** The host as the target's API returns it, or undefined. */
    async function targetHost() {
        const auth = await api<string>(target, "user.login", { username: "Admin", password: adminPassword });
        try {
            const [host] = await api(
                target,
                "host.get",
                {
                    filter: { host: [HOST] },
                    output: ["host"],
                    selectGroups: ["name"],
                    selectItems: ["key_", "name", "type", "value_type", "templateid"],
                    selectParentTemplates: ["host"],
                },
                auth,
            );
            return host as
                | {
                      host: string;
                      groups: { name: string }[];
                      items: { key_: string; name: string; type: string; value_type: string; templateid: string }[];
                      parentTemplates: { host: string }[];
                  }
                | undefined;
        } finally {
            await api(target, "user.logout", [], auth);
        }
    }

    test("the target has no such host before the sync", async () => {
        expect(await targetHost()).toBeUndefined();
    });

    let firstRun: Awaited<ReturnType<typeof runSync>>;

    test("the script copies the group, the template and the host with its item and template links", async () => {
        firstRun = await runSync();
        if (firstRun.code !== 0) {
            throw new Error(
                `the sync exited ${firstRun.code ?? firstRun.signal}:\n${firstRun.output}\n${source.logs()}\n${target.logs()}`,
            );
        }
        expect(firstRun.output).toContain(`synchronised configuration from ${source.url} to ${target.url}`);

        const host = await targetHost();
        expect(host).toBeDefined();
        expect(host!.groups.map(g => g.name)).toEqual([GROUP]);
        expect(host!.parentTemplates.map(t => t.host).sort()).toEqual(["Linux by Zabbix agent", TEMPLATE]);
        const own = host!.items.find(i => i.key_ === "zha.sync.trapper");
        expect(own).toMatchObject({ name: "zha sync trapper", type: "2", value_type: "3", templateid: "0" });
        // Items the links bring: the new template's, and the stock template's.
        expect(host!.items.find(i => i.key_ === "zha.template.trapper")?.templateid).not.toBe("0");
        expect(host!.items.some(i => i.key_ === "agent.ping" || i.key_.startsWith("system."))).toBe(true);
    });

    test("a trigger dependency across batches arrives: its batch is imported again after the other", async () => {
        const auth = await api<string>(target, "user.login", { username: "Admin", password: adminPassword });
        const [dependent] = await api(
            target,
            "trigger.get",
            { host: DEPENDENT, output: ["description"], selectDependencies: ["description"], selectHosts: ["host"] },
            auth,
        );
        await api(target, "user.logout", [], auth);
        expect(dependent).toMatchObject({
            description: "zha dependent down",
            dependencies: [{ description: "zha upstream down" }],
        });
        // One export per batch, one import per batch, and one more: the retry of the dependent's batch.
        const count = (re: RegExp) => firstRun.argv.split("\n").filter(l => re.test(l)).length;
        const exports = count(/^jq -c \{format: "json", options: \.\}$/);
        expect(exports).toBeGreaterThan(2);
        expect(count(/^jq -c \{format: "json", source: \., rules: /)).toBe(exports + 1);
    });

    test("the password, and every session token, stayed off the command lines of that run", () => {
        expect(firstRun?.code).toBe(0);
        // The shims saw every jq and curl the script ran.
        expect(firstRun.argv).toMatch(/^curl .*api_jsonrpc\.php$/m);
        expect(firstRun.argv).toMatch(/^jq /m);
        expect(firstRun.argv).not.toContain(adminPassword);
        // Zabbix 6.0 session ids are 32 hex digits.
        expect(firstRun.argv).not.toMatch(/\b[0-9a-f]{32}\b/);
    });

    test("a second run succeeds and carries a change to an existing item (updateExisting)", async () => {
        const auth = await api<string>(source, "user.login", { username: "Admin", password: adminPassword });
        // The first run carried all of a stock 6.0 database's templates (half a minute or more);
        // to keep this file's run time down the second carries only those a host uses.
        const unused = (
            await api<{ templateid: string; hosts: unknown[] }[]>(
                source,
                "template.get",
                { output: ["templateid"], selectHosts: ["hostid"] },
                auth,
            )
        )
            .filter(t => t.hosts.length === 0)
            .map(t => t.templateid);
        expect(unused.length).toBeGreaterThan(100);
        for (let i = 0; i < unused.length; i += 50) {
            await api(source, "template.delete", unused.slice(i, i + 50), auth);
        }
        const [item] = await api(
            source,
            "item.get",
            { output: ["itemid"], host: HOST, filter: { key_: "zha.sync.trapper" } },
            auth,
        );
        await api(source, "item.update", { itemid: item.itemid, name: "zha sync trapper renamed" }, auth);
        await api(source, "user.logout", [], auth);

        const result = await runSync();
        expect(result.output).toContain(`synchronised configuration from ${source.url} to ${target.url}`);
        expect(result.code).toBe(0);
        const host = await targetHost();
        expect(host!.items.filter(i => i.key_ === "zha.sync.trapper").map(i => i.name)).toEqual([
            "zha sync trapper renamed",
        ]);
    });

    test("a target that does not answer the API fails the run, naming the target and the call", async () => {
        // The source's own nginx, at a path it does not serve: HTTP 404.
        const broken = source.url.replace("api_jsonrpc.php", "no-such-api.php");
        const text = renderConfigSyncScript({
            sourceUrl: source.url,
            targetUrls: [broken],
            apiUser: "Admin",
            passwordFile,
            caFile: pki.client.caFile,
        });
        const result = await run("sh", ["-c", text], { timeoutMs: 120_000 });
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain(`${broken} user.login: request failed`);
        // It stops there rather than import without a session.
        expect(result.output).not.toMatch(/configuration\.import|synchronised configuration/);
    });

    test("a wrong password fails the run with the API's own error", async () => {
        const wrong = await putFile(path.join(work, "wrong.password"), `${password()}\n`, 0o600);
        const result = await runSync(wrong);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain(`${source.url} user.login: `);
        expect(result.stderr).toMatch(/Incorrect user name or password or account is temporarily blocked/);
        expect(result.stdout).not.toMatch(/synchronised configuration/);
    });

    /** One run of the script from `sourceUrl` to the target, verifying against `caFile`: what it printed. */
    async function syncOnce(sourceUrl: string, caFile: string) {
        const text = renderConfigSyncScript({
            sourceUrl,
            targetUrls: [target.url],
            apiUser: "Admin",
            passwordFile,
            caFile,
        });
        return run("sh", ["-c", text], { timeoutMs: 120_000 });
    }

    test("the script sends nothing over plain HTTP: curl refuses an http:// URL before it connects", async () => {
        const plain = source.url.replace(/^https:/, "http:");
        const result = await syncOnce(plain, pki.client.caFile);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toMatch(/Protocol "http" (not supported|disabled)/);
        expect(result.stderr).toContain(`${plain} apiinfo.version: request failed`);
    });

    test("a site whose certificate does not verify against the stack's CA is refused before the password is sent", async () => {
        const other = await testPki(scratch, "Another CA");
        const result = await syncOnce(source.url, other.client.caFile);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toMatch(/SSL certificate problem|unable to get local issuer certificate/);
        expect(result.stdout).not.toMatch(/synchronised configuration/);
    });

    test("the Zabbix objects step on 6.0 (no proxy groups): each agent's host is the server's, PSK both ways; a second run changes nothing", async () => {
        const input: ZabbixObjectsScriptInput = {
            ...{ apiUrl: target.url, apiUser: "Admin", caFile: pki.client.caFile },
            ...{ installation: "zha60", recordFile: path.join(work, "objects-record.json") },
            ...{ hostGroup: "zha 6.0 monitored", proxyGroups: [], proxies: [] },
            hosts: [{ name: "zha-60-app", pskIdentity: "zabbix-ha-agent-zha-60-app" }],
            template: dataPathTemplate(60),
        };
        const key = randomBytes(32).toString("hex");
        const secrets = {
            [OBJECTS_SECRETS.password]: adminPassword,
            [OBJECTS_SECRETS.psks]: JSON.stringify({ [objectKey("host", "zha-60-app")]: key }),
        };
        const changes = async () =>
            ok(await runStep(renderZabbixObjectsScript(input), secrets))
                .stdout.split("\n")
                .filter(l => /^updated \S/.test(l));
        expect(await changes()).toEqual([
            "updated host group zha 6.0 monitored (created)",
            // 6.0 keeps templates in host groups: "Templates" is one it ships.
            `updated template ${DATA_PATH_TEMPLATE} (created)`,
            `updated item ${DATA_PATH_ITEM_KEY} of template ${DATA_PATH_TEMPLATE} (created)`,
            "updated host zha-60-app (created)",
            `updated ${input.recordFile}`,
        ]);
        const auth = await api<string>(target, "user.login", { username: "Admin", password: adminPassword });
        const [host] = await api(
            target,
            "host.get",
            {
                ...{ filter: { host: ["zha-60-app"] }, selectGroups: ["name"] },
                output: ["host", "proxy_hostid", "tls_connect", "tls_accept", "description"],
            },
            auth,
        );
        expect(host).toMatchObject({
            ...{ proxy_hostid: "0", tls_connect: "2", tls_accept: "2", description: objectsMarker("zha60") },
            groups: [{ name: "zha 6.0 monitored" }],
        });
        expect(await changes()).toEqual([]);
    });
});
