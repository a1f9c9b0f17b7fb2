/**
 * Reads a `Pulumi.<env>.yaml` into the config map the engine would hand the program. Offline,
 * secure values cannot be decrypted: they become a placeholder marked secret, which is enough to
 * validate and plan (nothing offline connects anywhere).
 */
import { readFileSync } from "fs";
import { parse } from "yaml";

export interface EnvironmentConfig {
    /** The file it came from. */
    readonly file: string;
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
}

export const SECRET_PLACEHOLDER = "[secret: encrypted in the stack file]";

function isSecure(value: unknown): boolean {
    return (
        !!value &&
        typeof value === "object" &&
        !Array.isArray(value) &&
        Object.keys(value).length === 1 &&
        "secure" in value
    );
}

/** Turns parsed stack-file config into engine form: strings as they are, anything else as JSON. */
export function toEngineConfig(
    values: Record<string, unknown>,
    project = "zabbix-ha",
): { config: Record<string, string>; secretKeys: string[] } {
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries(values)) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        if (isSecure(value)) {
            config[key] = SECRET_PLACEHOLDER;
            secretKeys.push(key);
        } else {
            config[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { config, secretKeys };
}

export function readEnvironment(file: string): EnvironmentConfig {
    let doc: unknown;
    try {
        doc = parse(readFileSync(file, "utf8"));
    } catch (err) {
        throw new Error(`${file}: cannot read stack settings: ${(err as Error).message}`);
    }
    const values = (doc as { config?: Record<string, unknown> } | null)?.config;
    if (!values || typeof values !== "object") {
        throw new Error(`${file}: no "config:" mapping; a stack settings file holds its values under config:`);
    }
    return { file, ...toEngineConfig(values) };
}
