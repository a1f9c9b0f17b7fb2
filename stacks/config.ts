import * as pulumi from "@pulumi/pulumi";
import {
    RawStackConfig,
    SECRET_KEYS,
    SecretKey,
    SecretSettings,
    StackConfig,
    ValidationOptions,
    secretSetting,
    validateStackConfig,
} from "../components/config";
import { ModelConfig, readModelConfig } from "../model";

export { SECRET_KEYS };

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
    readonly secrets: Partial<Record<SecretKey, pulumi.Output<string>>>;
    /** How each secret key that is set was set, for validation (which never sees the values). */
    readonly secretSettings: SecretSettings;
}

/**
 * Whether the engine handed a key over as a secret: `pulumi config set --secret`, or a `secure:`
 * value in the stack file (the language host lists those keys in PULUMI_CONFIG_SECRET_KEYS, and the
 * mock runtime in setAllConfig's second argument). The SDK's own test is runtime.isConfigSecret,
 * which it exports but leaves out of its type declarations.
 */
function setAsSecret(fullKey: string): boolean {
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    if (typeof runtime.isConfigSecret !== "function") {
        throw new Error("this @pulumi/pulumi has no runtime.isConfigSecret: cannot tell secret config from plain text");
    }
    return runtime.isConfigSecret(fullKey);
}

/** The stack's configuration as the engine hands it over, before validation. */
export function readRawConfig(config: pulumi.Config): RawStack {
    const raw: Record<string, unknown> = {};
    // Every key of the namespace, known or not, so that validation can name a misspelt one.
    const prefix = `${config.name}:`;
    const keys = Object.keys(pulumi.runtime.allConfig())
        .filter(k => k.startsWith(prefix))
        .map(k => k.slice(prefix.length));
    for (const key of keys.filter(k => !isSecretKey(k))) {
        const text = config.get(key);
        if (text !== undefined) {
            raw[key] = parseValue(text);
        }
    }
    const set = SECRET_KEYS.filter(key => config.get(key) !== undefined);
    const secrets = Object.fromEntries(set.map(key => [key, config.getSecret(key)!]));
    const secretSettings = Object.fromEntries(
        set.map(key => [key, secretSetting(config.get(key)!, setAsSecret(`${prefix}${key}`))]),
    );
    return { raw, secrets, secretSettings };
}

function isSecretKey(key: string): boolean {
    return (SECRET_KEYS as readonly string[]).includes(key);
}

/**
 * The raw configuration in a stack settings file's `config:` (keys with their namespace, values as
 * the engine hands them over), without the secrets: what a tool reads before it plans.
 */
export function rawFromSettings(config: Readonly<Record<string, string>>, namespace = "zabbix-ha"): RawStackConfig {
    const prefix = `${namespace}:`;
    return Object.fromEntries(
        Object.entries(config)
            .filter(([key]) => key.startsWith(prefix) && !isSecretKey(key.slice(prefix.length)))
            .map(([key, text]) => [key.slice(prefix.length), parseValue(text)]),
    );
}

/** The whole checked configuration: the stack's own sections and the preview model's. */
export type CheckedConfig = StackConfig & { readonly sections: { readonly model: ModelConfig } };

/** Validates every section, the model's included, into one error that lists every problem. */
export function checkStackConfig(raw: RawStackConfig, options: ValidationOptions): CheckedConfig {
    return validateStackConfig<{ model: ModelConfig }>(raw, options, { model: readModelConfig });
}
