/**
 * The config sync script's answer to exports without secrets (Zabbix 7.0's), run by this machine's
 * jq on lists and an export as the source's API returns them: every secret goes back into the
 * object it belongs to, and nothing else changes. debian13-zabbix.test.ts runs the whole script
 * against real 7.0 frontends.
 */
import { RESTORE_SECRETS, SECRETS_BY_OBJECT } from "../../components/zabbix/configSyncScript";
import { Scratch, ok, putFile, run } from "./support";

const scratch = new Scratch();
afterAll(() => scratch.cleanup());

/** What item.get, itemprototype.get, discoveryrule.get, httptest.get and host.get return (with selectHosts). */
const LISTS = [
    [
        { itemid: "1", key_: "jmx[a,b]", password: "jmx-pw", privatekey: "", hosts: [{ hostid: "9", host: "Tpl" }] },
        {
            itemid: "2",
            key_: "jmx[a,b]",
            password: "other-pw",
            privatekey: "",
            hosts: [{ hostid: "8", host: "Other" }],
        },
        { itemid: "3", key_: "agent.ping", password: "", privatekey: "", hosts: [{ hostid: "9", host: "Tpl" }] },
    ],
    [{ itemid: "4", key_: "ssh.run[{#X}]", password: "", privatekey: "KEY", hosts: [{ hostid: "7", host: "H" }] }],
    [{ itemid: "5", key_: "lld.rule", ssl_key_password: "lld-pw", hosts: [{ hostid: "7", host: "H" }] }],
    [{ httptestid: "6", name: "front page", http_password: "web-pw", ssl_key_file: "", hosts: [{ host: "H" }] }],
    [
        { hostid: "7", host: "H", ipmi_password: "ipmi-pw" },
        { hostid: "8", host: "Other", ipmi_password: "" },
    ],
];

/** An export as 7.0 writes it: no secrets. */
const EXPORT = {
    zabbix_export: {
        version: "7.0",
        templates: [{ template: "Tpl", items: [{ key: "jmx[a,b]", username: "u" }, { key: "agent.ping" }] }],
        hosts: [
            {
                host: "H",
                httptests: [{ name: "front page", http_user: "w" }],
                discovery_rules: [{ key: "lld.rule", item_prototypes: [{ key: "ssh.run[{#X}]" }] }],
            },
            { host: "Other", items: [{ key: "other.item" }] },
        ],
    },
};

async function jq(program: string, args: readonly string[], input: string): Promise<unknown> {
    return JSON.parse(ok(await run("jq", ["-c", ...args, program], { input })).stdout);
}

test("the secrets of the source's objects, by host and key or name, only the non-empty ones", async () => {
    const secrets = await jq(SECRETS_BY_OBJECT, ["-s"], LISTS.map(l => JSON.stringify(l)).join("\n"));
    expect(secrets).toEqual({
        '["Tpl","jmx[a,b]"]': { password: "jmx-pw" },
        '["Other","jmx[a,b]"]': { password: "other-pw" },
        '["H","ssh.run[{#X}]"]': { privatekey: "KEY" },
        '["H","lld.rule"]': { ssl_key_password: "lld-pw" },
        '["H","front page"]': { http_password: "web-pw" },
        '["H",""]': { ipmi_password: "ipmi-pw" },
    });
});

test("each secret goes back into its own object of the export, and nothing else changes", async () => {
    const secrets = await jq(SECRETS_BY_OBJECT, ["-s"], LISTS.map(l => JSON.stringify(l)).join("\n"));
    const file = await putFile(`${await scratch.dir("secrets")}/secrets.json`, JSON.stringify(secrets), 0o600);
    // configuration.export's result is the export as a string, and the import takes it so.
    const restored = await jq(RESTORE_SECRETS, ["--slurpfile", "s", file], JSON.stringify(JSON.stringify(EXPORT)));
    expect(JSON.parse(restored as string)).toEqual({
        zabbix_export: {
            version: "7.0",
            templates: [
                {
                    template: "Tpl",
                    items: [{ key: "jmx[a,b]", username: "u", password: "jmx-pw" }, { key: "agent.ping" }],
                },
            ],
            hosts: [
                {
                    host: "H",
                    ipmi_password: "ipmi-pw",
                    httptests: [{ name: "front page", http_user: "w", http_password: "web-pw" }],
                    discovery_rules: [
                        {
                            key: "lld.rule",
                            ssl_key_password: "lld-pw",
                            item_prototypes: [{ key: "ssh.run[{#X}]", privatekey: "KEY" }],
                        },
                    ],
                },
                { host: "Other", items: [{ key: "other.item" }] },
            ],
        },
    });
});
