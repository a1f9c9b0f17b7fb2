import * as pulumi from "@pulumi/pulumi";
import { RawStackConfig, StackConfig, ValidationOptions, validateStackConfig } from "../components/config";
import { ModelConfig, readModelConfig } from "../model";

/** Keys that hold secrets; read with getSecret and never parsed. */
export const SECRET_KEYS = ["sshPrivateKey", "zabbixApiPassword", "cloudDbAdminPassword"] as const;

/** Structured values arrive as JSON text; plain strings ("10s") do not parse and stay as they are. */
export function parseValue(text: string): unknown {
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
    const keys = Object.keys(pulumi.runtime.allConfig())
        .filter(k => k.startsWith(prefix))
        .map(k => k.slice(prefix.length));
    for (const key of keys.filter(k => !(SECRET_KEYS as readonly string[]).includes(k))) {
        const text = config.get(key);
        if (text !== undefined) {
            raw[key] = parseValue(text);
        }
    }
    const secrets = Object.fromEntries(
        SECRET_KEYS.map(key => [key, config.getSecret(key)]).filter(([, v]) => v !== undefined),
    );
    return { raw, secrets };
}

/**
 * The raw configuration in a stack settings file's `config:` (keys with their namespace, values as
 * the engine hands them over), without the secrets: what a tool reads before it plans.
 */
export function rawFromSettings(config: Readonly<Record<string, string>>, namespace = "zabbix-ha"): RawStackConfig {
    const prefix = `${namespace}:`;
    return Object.fromEntries(
        Object.entries(config)
            .filter(
                ([key]) =>
                    key.startsWith(prefix) && !(SECRET_KEYS as readonly string[]).includes(key.slice(prefix.length)),
            )
            .map(([key, text]) => [key.slice(prefix.length), parseValue(text)]),
    );
}

/** The whole checked configuration: the stack's own sections and the preview model's. */
export type CheckedConfig = StackConfig & { readonly sections: { readonly model: ModelConfig } };

/** Validates every section, the model's included, into one error that lists every problem. */
export function checkStackConfig(raw: RawStackConfig, options: ValidationOptions): CheckedConfig {
    return validateStackConfig<{ model: ModelConfig }>(raw, options, { model: readModelConfig });
}
