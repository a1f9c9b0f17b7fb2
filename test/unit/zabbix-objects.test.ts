/**
 * The Zabbix objects step: its rendered script (what it sends, to where, and what it never holds),
 * and the ZabbixObjects component the stack builds under mocks, per installation, from the topology.
 */
import { ConfigError } from "../../components/config/reader";
import { HostFirewallFacts, RESOURCE_TYPES, ZABBIX_OBJECTS, factProblems } from "../../components/facts";
import { UI_HTTPS_PORT } from "../../components/loadbalancer/ports";
import { packagesFor } from "../../components/host/render";
import { CA_FILE } from "../../components/pki/files";
import { DATA_PATH_ITEM_KEY, DATA_PATH_TEMPLATE, dataPathTemplate } from "../../components/proxy";
import { MONITORED_HOST_GROUP, ZabbixObjects } from "../../components/zabbix";
import {
    OBJECTS_SECRETS,
    ZabbixObjectsScriptInput,
    objectKey,
    objectsMarker,
    pskRecordFile,
    renderConfigSyncScript,
    renderApiClient,
    renderZabbixObjectsScript,
} from "../../components/zabbix/render";
import { CapturedPlan, ofType, transitiveDependencies } from "../../tools/offline/capture";
import { dataPathConfig, dataPathConfigWith, withoutProxies } from "../support/dataPath";
import { byName, planConfig, scriptOf, target } from "../support/plan";

const INPUT: ZabbixObjectsScriptInput = {
    apiUrl: "https://198.18.1.10/api_jsonrpc.php",
    apiUser: "Admin",
    caFile: CA_FILE,
    installation: "zabbix",
    recordFile: pskRecordFile("zabbix"),
    hostGroup: MONITORED_HOST_GROUP,
    proxyGroups: [{ name: "all-sites", failoverDelaySeconds: 90, minOnline: 2 }],
    proxies: [{ name: "east-proxy", group: "all-sites", address: "198.18.1.20", port: 10051, pskIdentity: "id-p" }],
    hosts: [
        { name: "east-app", group: "all-sites", pskIdentity: "id-a" },
        { name: "lone-app", pskIdentity: "id-l" },
    ],
    template: dataPathTemplate(1),
};

/** The JSON the script compares the API's objects with. */
function desired(text: string): any {
    const line = /^DESIRED='(.*)'$/m.exec(text);
    expect(line).not.toBeNull();
    return JSON.parse(line![1].replace(/'\\''/g, "'"));
}

describe("the rendered objects script", () => {
    const text = renderZabbixObjectsScript(INPUT);

    test("it uses the one shared API client, over HTTPS only with the stack's CA, as the config sync does", () => {
        const client = renderApiClient();
        expect(text).toContain(client);
        expect(client).toContain('--proto =https --cacert "$CA_FILE"');
        expect(
            renderConfigSyncScript({
                sourceUrl: "https://a/api_jsonrpc.php",
                targetUrls: ["https://b/api_jsonrpc.php"],
                apiUser: "Admin",
                passwordFile: "/p",
                caFile: CA_FILE,
            }),
        ).toContain(client);
        expect(text).toContain(`CA_FILE='${CA_FILE}'`);
    });

    test("a URL that is not https:// is refused", () => {
        expect(() => renderZabbixObjectsScript({ ...INPUT, apiUrl: "http://198.18.1.10/api_jsonrpc.php" })).toThrow(
            /not an https:\/\/ URL/,
        );
    });

    test("the objects it keeps carry the API's fields: active proxies in the group, hosts by the group or the servers, PSK both ways", () => {
        expect(desired(text)).toEqual({
            marker: objectsMarker("zabbix"),
            hostGroup: MONITORED_HOST_GROUP,
            template: {
                name: DATA_PATH_TEMPLATE,
                group: "Templates",
                // An active agent check of a numeric unsigned value, every second as dataPathTemplate(1) asked.
                item: expect.objectContaining({ key_: DATA_PATH_ITEM_KEY, type: "7", value_type: "3", delay: "1s" }),
            },
            proxyGroups: [{ name: "all-sites", failover_delay: "90s", min_online: "2" }],
            proxies: [
                {
                    key: objectKey("proxy", "east-proxy"),
                    group: "all-sites",
                    want: {
                        name: "east-proxy",
                        operating_mode: "0",
                        local_address: "198.18.1.20",
                        local_port: "10051",
                        tls_accept: "2",
                    },
                    identity: "id-p",
                },
            ],
            hosts: [
                {
                    key: objectKey("host", "east-app"),
                    group: "all-sites",
                    want: { host: "east-app", tls_connect: "2", tls_accept: "2" },
                    identity: "id-a",
                },
                {
                    key: objectKey("host", "lone-app"),
                    group: null,
                    want: { host: "lone-app", tls_connect: "2", tls_accept: "2" },
                    identity: "id-l",
                },
            ],
        });
        // A host with a group is the group's (monitored_by 2), one without the servers' (0); 6.0 has no monitored_by.
        expect(text).toMatch(/monitored_by: "0"/);
        expect(text).toMatch(/monitored_by: "2", proxy_groupid: \$gid\[\.group\]/);
        expect(text).toMatch(/if \$series == "6\.0" then \{proxy_hostid: "0"\}/);
        // Every host is linked to the check's template, keeping the templates others linked.
        expect(text).toMatch(/\.want \+= \{templates: \(\$linked \+ \[\{templateid: \$tpl\}\]\)\}/);
        expect(dataPathTemplate(90).item.delay).toBe("90s");
        expect(dataPathTemplate(120).item.delay).toBe("2m");
    });

    test("the password and the PSKs come from the step's secrets into files, and every change prints one updated line", () => {
        expect(text).toContain(`printf '%s\\n' "$${OBJECTS_SECRETS.password}" >"$PASSWORD_FILE"`);
        expect(text).toContain(`printf '%s\\n' "$${OBJECTS_SECRETS.psks}" >"$work/psks"`);
        expect(text).toMatch(/echo "updated \$\(printf '%s' "\$change" \| jq -r \.what\)"/);
        // A PSK is sent with a create, and with an update only when its record differs.
        expect(text).toMatch(/\$rec\[\$o\.key\] != \{id: \$c\[\$id\], sha256: \$hash\[\$o\.key\]\}/);
        expect(text).toMatch(/zha_put_file "\$RECORD" 0600 root:root/);
    });
});

describe("ZabbixObjects in the stack, under mocks", () => {
    let plan: CapturedPlan;
    beforeAll(async () => {
        plan = await planConfig(dataPathConfig());
        expect(plan.error).toBeUndefined();
    });

    test("one per installation, declaring facts its schema accepts", () => {
        const declared = ofType(plan, ZABBIX_OBJECTS.token);
        expect(declared.map(r => r.name)).toEqual(["zabbix-objects"]);
        expect(factProblems({ type: declared[0].type, props: declared[0].inputs }, ZABBIX_OBJECTS)).toEqual([]);
        expect(declared[0].inputs).toMatchObject({
            host: "east-1",
            site: "east",
            apiUrl: "https://198.18.1.10/api_jsonrpc.php",
            proxyGroups: ["all-sites"],
            proxies: ["east-proxy", "west-proxy"],
            hosts: ["east-app", "west-app"],
        });
    });

    test("its step runs on the first frontend host, after every frontend and the schema step", () => {
        const step = byName(plan, "zabbix-objects-api");
        expect(target(step)).toBe("198.18.1.10");
        // The record of the PSKs it set is root's, under the library's state directory.
        expect(scriptOf(step)).toContain("RECORD='/var/lib/zabbix-ha/zabbix-objects-zabbix.json'");
        const deps = transitiveDependencies(plan, step.id);
        for (const name of ["east-1-frontend-web", "west-1-frontend-web", "zabbix-db-schema", "east-east-1-packages"]) {
            expect({ name, before: deps.has(byName(plan, name).id) }).toEqual({ name, before: true });
        }
        expect(scriptOf(byName(plan, "east-east-1-packages"))).toMatch(/for zha_pkg in .*\bjq\b/);
    });

    test("the Super Admin's password and every PSK reach it on stdin only, keyed by object", () => {
        const step = byName(plan, "zabbix-objects-api");
        expect(step.secretInputs).toContain("stdin");
        const [password, psks] = String(step.inputs.stdin).split("\n");
        expect(password).toBe(String((plan.outputs as { zabbixAdminPassword: unknown }).zabbixAdminPassword));
        const hex = (name: string) => String(byName(plan, `${name}-psk`).outputs.hex);
        expect(JSON.parse(psks)).toEqual({
            [objectKey("proxy", "east-proxy")]: hex("east-proxy-proxy"),
            [objectKey("proxy", "west-proxy")]: hex("west-proxy-proxy"),
            [objectKey("host", "east-app")]: hex("east-app-agent"),
            [objectKey("host", "west-app")]: hex("west-app-agent"),
        });
        const create = String(step.inputs.create);
        expect(
            [password, ...Object.values(JSON.parse(psks) as Record<string, string>)].some(s => create.includes(s)),
        ).toBe(false);
        // The identities are the ones each daemon's own configuration names.
        const objects = desired(scriptOf(step));
        expect(objects.proxies.map((p: { identity: string }) => p.identity)).toEqual([
            "zabbix-ha-proxy-east-proxy",
            "zabbix-ha-proxy-west-proxy",
        ]);
        expect(scriptOf(byName(plan, "east-proxy-proxy-config"))).toContain(
            "TLSPSKIdentity=zabbix-ha-proxy-east-proxy",
        );
        expect(objects.proxies.map((p: { want: { local_address: string } }) => p.want.local_address)).toEqual([
            "198.18.1.20",
            "198.18.2.20",
        ]);
    });

    test("where each site runs its own Zabbix, each installation gets its own site's objects, at its own load balancer", async () => {
        const perSite = await planConfig({ ...dataPathConfig(), pattern: "standalone" });
        expect(perSite.error).toBeUndefined();
        const declared = ofType(perSite, ZABBIX_OBJECTS.token).map(r => r.inputs);
        expect(declared.map(d => [d.host, d.apiUrl, d.proxyGroups, d.proxies, d.hosts])).toEqual([
            ["east-1", "https://198.18.1.10/api_jsonrpc.php", ["east-proxies"], ["east-proxy"], ["east-app"]],
            ["west-1", "https://198.18.2.10/api_jsonrpc.php", ["west-proxies"], ["west-proxy"], ["west-app"]],
        ]);
        expect(desired(scriptOf(byName(perSite, "east-objects-api"))).marker).toBe(objectsMarker("east"));
    });

    test("without proxies the agents' hosts are the servers' (no group), and no proxy group is made", async () => {
        const direct = await planConfig(dataPathConfigWith(withoutProxies));
        expect(direct.error).toBeUndefined();
        const objects = desired(scriptOf(byName(direct, "zabbix-objects-api")));
        expect(objects.proxyGroups).toEqual([]);
        expect(objects.proxies).toEqual([]);
        expect(objects.hosts.map((h: { group: unknown }) => h.group)).toEqual([null, null]);
    });

    test("with the host firewall on, every load balancer admits the step's host to the UI's HTTPS port", async () => {
        const walled = await planConfig(
            dataPathConfigWith(
                r =>
                    (r.firewall = {
                        enabled: true,
                        monitoredNetwork: ["198.18.50.0/24"],
                        usersNetwork: ["198.18.60.0/24"],
                    }),
            ),
        );
        expect(walled.error).toBeUndefined();
        const https = ofType(walled, "zabbix-ha:firewall:HostFirewall")
            .map(r => r.inputs as unknown as HostFirewallFacts)
            .find(f => f.host === "west-1")!
            .admits.find(a => a.port === UI_HTTPS_PORT)!;
        // Users, and the other site's step host (its own traffic stays on lo).
        expect(https.sources).toEqual(["198.18.1.10", "198.18.60.0/24"]);
    });

    test("the check template's item follows zabbix.dataPathCheckInterval (a minute unless set); a bad interval is refused, naming it", async () => {
        const itemDelay = (p: CapturedPlan) => desired(scriptOf(byName(p, "zabbix-objects-api"))).template.item.delay;
        expect(itemDelay(plan)).toBe("1m");
        const everySecond = await planConfig(dataPathConfigWith(r => (r.zabbix.dataPathCheckInterval = "1s")));
        expect(everySecond.error).toBeUndefined();
        expect(itemDelay(everySecond)).toBe("1s");
        const tooSlow = await planConfig(dataPathConfigWith(r => (r.zabbix.dataPathCheckInterval = "2h")));
        expect(String(tooSlow.error)).toMatch(/zabbix\.dataPathCheckInterval: "2h" is not a duration from 1s to 1h/);
        expect(tooSlow.resources).toEqual([]);
    });

    test("a stack without proxies or agents has no objects step", async () => {
        const none = await planConfig(
            dataPathConfigWith(r =>
                r.sites.forEach(
                    (s: { hosts: { roles: string[] }[] }) =>
                        (s.hosts = s.hosts.filter(h => !h.roles.includes("proxy") && !h.roles.includes("agent"))),
                ),
            ),
        );
        expect(none.error).toBeUndefined();
        expect(ofType(none, ZABBIX_OBJECTS.token)).toEqual([]);
        expect(
            none.resources.filter(r => r.type === RESOURCE_TYPES.command && r.name.endsWith("-objects-api")),
        ).toEqual([]);
    });
});

test("the component refuses an API URL that is not https://, naming the config path, before any resource", () => {
    let thrown: unknown;
    try {
        new ZabbixObjects("x", { apiUrl: "http://198.18.1.10/api_jsonrpc.php" } as never);
    } catch (err) {
        thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems.map(p => p.path)).toEqual(["zabbix.proxyGroups"]);
});

test("on Zabbix 6.0 (no proxy groups) the agents' hosts are the servers'", async () => {
    const old = await planConfig(
        dataPathConfigWith(r => {
            withoutProxies(r);
            r.zabbix = { version: "6.0", packageSource: "distribution" };
            r.sites.forEach((s: { hosts: { os: string }[] }) => s.hosts.forEach(h => (h.os = "debian12")));
        }),
    );
    expect(old.error).toBeUndefined();
    const objects = desired(scriptOf(byName(old, "zabbix-objects-api")));
    expect(objects.hosts.map((h: { want: { host: string }; group: unknown }) => [h.want.host, h.group])).toEqual([
        ["east-app", null],
        ["west-app", null],
    ]);
});

test("a frontend host gets jq, which the objects step needs beside curl", () => {
    const packages = packagesFor({
        os: "debian13",
        roles: ["frontend"],
        zabbixVersion: "7.0",
        packageSource: "distribution",
    });
    expect(packages).toEqual(expect.arrayContaining(["curl", "jq"]));
});
