import * as pulumi from "@pulumi/pulumi";
import { ConfigError, DEFAULT_PATTERN } from "../components/config";
import { superAdminPassword } from "../components/zabbix";
import { topologyOf } from "../model";
import { checkStackConfig, readRawConfig } from "./config";
import { PATTERNS, StackOutputs, patternNamed } from "./patterns";

/**
 * The stack program: pick the pattern (`zabbix-ha:pattern`, default zabbix-ha), validate the whole
 * configuration against it first (one error listing every problem, before any resource exists),
 * then build it.
 */
export async function runStack(config = new pulumi.Config("zabbix-ha")): Promise<StackOutputs> {
    const { raw, secrets, secretSettings } = readRawConfig(config);
    const name = raw.pattern ?? DEFAULT_PATTERN;
    const pattern = typeof name === "string" ? patternNamed(name) : undefined;
    if (!pattern) {
        throw new ConfigError([
            {
                path: "pattern",
                message: `${JSON.stringify(name)} is not one of ${PATTERNS.map(p => p.name).join(", ")}`,
            },
        ]);
    }
    const checked = checkStackConfig(raw, {
        secrets: secretSettings,
        requirements: pattern.requirements,
    });
    // Made only once the config is valid: a config error creates nothing.
    const superAdmin = superAdminPassword("zabbix-ha");
    const outputs = await pattern.deploy(checked, { ...secrets, sshPrivateKey: secrets.sshPrivateKey!, superAdmin });
    return {
        ...outputs,
        topology: topologyOf(outputs.design),
        model: checked.sections.model,
        zabbixAdminPassword: superAdmin.password,
    };
}
