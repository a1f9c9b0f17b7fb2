import * as pulumi from "@pulumi/pulumi";
import { ConfigError, DEFAULT_PATTERN, validateStackConfig } from "../components/config";
import { readRawConfig } from "./config";
import { PATTERNS, StackOutputs, patternNamed } from "./patterns";

/**
 * The stack program: pick the pattern (`zabbix-ha:pattern`, default zabbix-ha), validate the whole
 * configuration against it first (one error listing every problem, before any resource exists),
 * then build it.
 */
export async function runStack(config = new pulumi.Config("zabbix-ha")): Promise<StackOutputs> {
    const { raw, secrets } = readRawConfig(config);
    const name = raw.pattern ?? DEFAULT_PATTERN;
    const pattern = typeof name === "string" ? patternNamed(name) : undefined;
    if (!pattern) {
        throw new ConfigError([{ path: "pattern", message: `${JSON.stringify(name)} is not one of ${PATTERNS.map(p => p.name).join(", ")}` }]);
    }
    const checked = validateStackConfig(raw, {
        secrets: {
            sshPrivateKey: secrets.sshPrivateKey !== undefined,
            zabbixApiPassword: secrets.zabbixApiPassword !== undefined,
            cloudDbAdminPassword: secrets.cloudDbAdminPassword !== undefined,
        },
        requirements: pattern.requirements,
    });
    return { ...await pattern.deploy(checked, { ...secrets, sshPrivateKey: secrets.sshPrivateKey! }), model: checked.model };
}
