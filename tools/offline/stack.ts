/**
 * Plans the real stack program offline for one environment file: the entry the preview, the tests
 * and the lab share.
 */
import * as path from "path";
import { ConfigError, SECRET_CONFIG, configSyncTakesApiPassword, setSecretCommand } from "../../components/config";
import { parseValue } from "../../stacks/config";
import { runStack } from "../../stacks/program";
import { CaptureOptions, CapturedPlan, capturePlan } from "./capture";
import { EnvironmentConfig, SECRET_PLACEHOLDER } from "./environment";

export interface StackPlan extends CapturedPlan {
    /** Notes for the reader, such as a secret that was planned with a placeholder. */
    readonly notes: readonly string[];
}

export interface PlanOptions {
    /** Plan with placeholder secrets where the file sets none (the preview does; tests of validation do not). */
    readonly placeholderSecrets?: boolean;
    /** Config values that override the file's (`project:key` to engine string), as plain `pulumi config set` sets them. */
    readonly overrides?: Record<string, string>;
    /** Config values set as secrets (`project:key` to value), as `pulumi config set --secret` sets them. */
    readonly secrets?: Record<string, string>;
    /** The stack's name (default: from the file name, Pulumi.<stack>.yaml), as `pulumi up --config-file` keeps the selected one. */
    readonly stack?: string;
    /** Outputs of a previous deployment to keep, as the engine keeps them for unchanged resources. */
    readonly prior?: CaptureOptions["prior"];
}

export async function planEnvironment(env: EnvironmentConfig, options: PlanOptions = {}): Promise<StackPlan> {
    const config = { ...env.config, ...options.overrides, ...options.secrets };
    // A plain override replaces a secret of the file as `pulumi config set` would: it is plain text then.
    const plain = Object.keys(options.overrides ?? {});
    const secretKeys = [
        ...new Set([...env.secretKeys.filter(k => !plain.includes(k)), ...Object.keys(options.secrets ?? {})]),
    ];
    const notes: string[] = [];
    // zabbixApiPassword only where the sync's user is the operator's: validation refuses one for Admin;
    // and no key that goes only with another that is unset (the operator CA's key).
    const apiUser = configSyncTakesApiPassword(parseValue(config["zabbix-ha:configSync"] ?? "{}"));
    const placeholders = SECRET_CONFIG.filter(d => !("onlyWith" in d))
        .map(d => d.key)
        .filter(name => name !== "zabbixApiPassword" || apiUser);
    for (const name of options.placeholderSecrets ? placeholders : []) {
        const key = `zabbix-ha:${name}`;
        if (config[key] === undefined) {
            config[key] = SECRET_PLACEHOLDER;
            secretKeys.push(key);
            notes.push(
                `${name} is not set in ${path.basename(env.file)}: planned with a placeholder; ` +
                    `set it before \`pulumi up\` with \`${setSecretCommand(name)}\` if the pattern uses it`,
            );
        }
    }
    const stack = options.stack ?? stackOfFile(env.file);
    const plan = await capturePlan(() => runStack(), { config, secretKeys, stack, prior: options.prior });
    return { ...plan, notes };
}

/** A plan's error as lines: each config problem with its path, or the error's own message. */
export function errorLines(error: Error): string[] {
    return error instanceof ConfigError ? error.problems.map(p => `${p.path}: ${p.message}`) : [error.message];
}

/** The stack a settings file belongs to: `Pulumi.<stack>.yaml`. */
export function stackOfFile(file: string): string {
    return /Pulumi\.([^/]+)\.yaml$/.exec(file)?.[1] ?? "offline";
}
