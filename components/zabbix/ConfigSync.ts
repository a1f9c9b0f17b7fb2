import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_SYNC, ConfigSyncFacts } from "../facts";
import { Host } from "../host";
import { putFile, putSecretFile } from "../shell";
import { renderConfigSyncScript, renderConfigSyncService, renderConfigSyncTimer } from "./configSyncRender";

/**
 * ConfigSyncArgs describe pattern 2's configuration sync between independent Zabbix sites.
 */
export interface ConfigSyncArgs {
    /** Host that runs the sync on a timer (needs curl and jq). */
    readonly host: Host;
    /** JSON-RPC URL of the source site's Zabbix (through its load balancer). */
    readonly sourceUrl: string;
    /** JSON-RPC URLs of the sites that receive the configuration. */
    readonly targetUrls: readonly string[];
    /** Zabbix user the sync logs in as on every site. */
    readonly apiUser: string;
    /** That user's password; a Pulumi secret, stored in a root-only file on the host. */
    readonly apiPassword: pulumi.Input<string>;
    /** Minutes between runs. */
    readonly intervalMinutes: number;
    /** Resources the sync starts after (every site's frontend). */
    readonly after: readonly pulumi.Resource[];
}

export const CONFIG_SYNC_SCRIPT = "/usr/local/sbin/zabbix-ha-config-sync";
export const CONFIG_SYNC_PASSWORD = "/etc/zabbix-ha/config-sync.password";

/**
 * ConfigSync copies configuration (hosts, templates, groups) from one site's Zabbix to the others
 * through the Zabbix API on a systemd timer: configuration.export, then configuration.import.
 * The sites stay independent: each keeps its own history and sends its own alerts.
 */
export class ConfigSync extends pulumi.ComponentResource {
    /** The step that installs and starts the timer. */
    public readonly configured: command.remote.Command;
    /** What it declares: the API it copies from, those it copies to, how often. */
    public readonly facts: ConfigSyncFacts;

    constructor(name: string, args: ConfigSyncArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts: ConfigSyncFacts = { source: args.sourceUrl, targets: [...args.targetUrls], intervalSeconds: args.intervalMinutes * 60 };
        super(CONFIG_SYNC.token, name, facts, opts);
        this.facts = facts;
        const units = { scriptPath: CONFIG_SYNC_SCRIPT, intervalMinutes: args.intervalMinutes };
        this.configured = args.host.step(`${name}-timer`, {
            script: [
                putSecretFile(CONFIG_SYNC_PASSWORD, "API_PASSWORD", "0600", "root:root"),
                putFile(CONFIG_SYNC_SCRIPT, renderConfigSyncScript({
                    sourceUrl: args.sourceUrl,
                    targetUrls: args.targetUrls,
                    apiUser: args.apiUser,
                    passwordFile: CONFIG_SYNC_PASSWORD,
                }), "0755", "root:root"),
                putFile("/etc/systemd/system/zabbix-ha-config-sync.service", renderConfigSyncService(units), "0644", "root:root"),
                putFile("/etc/systemd/system/zabbix-ha-config-sync.timer", renderConfigSyncTimer(units), "0644", "root:root"),
                `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; fi`,
                "systemctl enable --now zabbix-ha-config-sync.timer",
            ].join("\n"),
            secrets: [{ variable: "API_PASSWORD", value: args.apiPassword }],
            delete: [
                `echo "the configuration sync leaves this host: its timer stops for good"`,
                "systemctl disable --now zabbix-ha-config-sync.timer",
                `rm -f ${CONFIG_SYNC_SCRIPT} ${CONFIG_SYNC_PASSWORD} /etc/systemd/system/zabbix-ha-config-sync.service /etc/systemd/system/zabbix-ha-config-sync.timer`,
                "systemctl daemon-reload",
            ].join("\n"),
        }, { parent: this, dependsOn: [...args.after] });
        this.registerOutputs({ source: args.sourceUrl, targets: [...args.targetUrls] });
    }
}
