import * as pulumi from "@pulumi/pulumi";
import { RawStackConfig } from "../components/config";

/** Keys of the `zabbix-ha` config namespace that the stack program reads. */
export const CONFIG_KEYS = ["pattern", "sites", "zabbix", "failoverDelay", "db", "loadBalancer", "frontend", "load"] as const;

/** Structured values arrive as JSON text; plain strings ("10s") do not parse and stay as they are. */
function parseValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** The stack's configuration as the engine hands it over, before validation. */
export function readRawConfig(config: pulumi.Config): { raw: RawStackConfig; sshPrivateKey?: pulumi.Output<string> } {
    const raw: Record<string, unknown> = {};
    for (const key of CONFIG_KEYS) {
        const text = config.get(key);
        if (text !== undefined) {
            raw[key] = parseValue(text);
        }
    }
    return { raw, sshPrivateKey: config.getSecret("sshPrivateKey") };
}
