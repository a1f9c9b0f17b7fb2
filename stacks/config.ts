import * as pulumi from "@pulumi/pulumi";
import { RawStackConfig } from "../components/config";

/** Keys that hold secrets; read with getSecret and never parsed. */
export const SECRET_KEYS = ["sshPrivateKey", "zabbixApiPassword", "cloudDbAdminPassword"] as const;

/** Structured values arrive as JSON text; plain strings ("10s") do not parse and stay as they are. */
function parseValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

export interface RawStack {
    readonly raw: RawStackConfig;
    readonly secrets: Partial<Record<(typeof SECRET_KEYS)[number], pulumi.Output<string>>>;
}

/** The stack's configuration as the engine hands it over, before validation. */
export function readRawConfig(config: pulumi.Config): RawStack {
    const raw: Record<string, unknown> = {};
    // Every key of the namespace, known or not, so that validation can name a misspelt one.
    const prefix = `${config.name}:`;
    const keys = Object.keys(pulumi.runtime.allConfig()).filter(k => k.startsWith(prefix)).map(k => k.slice(prefix.length));
    for (const key of keys.filter(k => !(SECRET_KEYS as readonly string[]).includes(k))) {
        const text = config.get(key);
        if (text !== undefined) {
            raw[key] = parseValue(text);
        }
    }
    const secrets = Object.fromEntries(SECRET_KEYS.map(key => [key, config.getSecret(key)]).filter(([, v]) => v !== undefined));
    return { raw, secrets };
}
