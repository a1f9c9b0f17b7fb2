import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config/reader";
import { CONFIG_SYNC, ConfigSyncFacts } from "../facts";
import { Host } from "../host";
import { configSyncStep, configSyncStepDelete } from "./steps";

/**
 * ConfigSyncArgs describe pattern 2's configuration sync between independent Zabbix sites.
 */
export interface ConfigSyncArgs {
    /** Host that runs the sync on a timer (needs curl and jq). */
    readonly host: Host;
    /** JSON-RPC URL of the source site's Zabbix (through its load balancer); https:// only. */
    readonly sourceUrl: string;
    /** JSON-RPC URLs of the sites that receive the configuration; https:// only. */
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
        refusePlainUrls(args);
        const facts: ConfigSyncFacts = {
            source: args.sourceUrl,
            targets: [...args.targetUrls],
            intervalSeconds: args.intervalMinutes * 60,
        };
        super(CONFIG_SYNC.token, name, facts, opts);
        this.facts = facts;
        this.configured = args.host.step(
            `${name}-timer`,
            {
                script: configSyncStep({
                    sourceUrl: args.sourceUrl,
                    targetUrls: args.targetUrls,
                    apiUser: args.apiUser,
                    passwordVariable: "API_PASSWORD",
                    intervalMinutes: args.intervalMinutes,
                }),
                secrets: [{ variable: "API_PASSWORD", value: args.apiPassword }],
                delete: configSyncStepDelete(),
            },
            { parent: this, dependsOn: [...args.after] },
        );
        this.registerOutputs({ source: args.sourceUrl, targets: [...args.targetUrls] });
    }
}

/**
 * The sync logs in with configSync.apiUser's password at every URL: one that is not https:// would
 * send it, and the session token, in clear between sites. Refused before any resource exists.
 */
function refusePlainUrls(args: Pick<ConfigSyncArgs, "sourceUrl" | "targetUrls">): void {
    const plain = [args.sourceUrl, ...args.targetUrls].filter(u => !/^https:\/\//i.test(u));
    if (plain.length > 0) {
        throw new ConfigError([
            {
                path: "configSync.apiUser",
                message: `the sync would send this user's password over ${plain.join(", ")}: only https:// URLs are allowed`,
            },
        ]);
    }
}
