/**
 * Plans the real stack program offline for one environment file: the entry the preview, the tests
 * and the lab share.
 */
import { runStack } from "../../stacks/program";
import { CapturedPlan, capturePlan } from "./capture";
import { EnvironmentConfig, SECRET_PLACEHOLDER } from "./environment";

export interface StackPlan extends CapturedPlan {
    /** Notes for the reader, such as a secret that was planned with a placeholder. */
    readonly notes: readonly string[];
}

export interface PlanOptions {
    /** Plan with a placeholder SSH key when the file sets none (the preview does; tests of validation do not). */
    readonly placeholderSshKey?: boolean;
    /** Config values that override the file's (`project:key` to engine string). */
    readonly overrides?: Record<string, string>;
}

export async function planEnvironment(env: EnvironmentConfig, options: PlanOptions = {}): Promise<StackPlan> {
    const config = { ...env.config, ...options.overrides };
    const secretKeys = [...env.secretKeys];
    const notes: string[] = [];
    const sshKey = "zabbix-ha:sshPrivateKey";
    if (options.placeholderSshKey && config[sshKey] === undefined) {
        config[sshKey] = SECRET_PLACEHOLDER;
        secretKeys.push(sshKey);
        notes.push(`sshPrivateKey is not set in ${env.file}: planned with a placeholder. `
            + "Set it before `pulumi up`: pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519");
    }
    const stack = /Pulumi\.([^/]+)\.yaml$/.exec(env.file)?.[1] ?? "offline";
    const plan = await capturePlan(() => runStack(), { config, secretKeys, stack });
    return { ...plan, notes };
}
