import * as pulumi from "@pulumi/pulumi";
import { ConfigError, validateStackConfig } from "../components/config";
import { readRawConfig } from "./config";
import { deployZabbixHa } from "./zabbixHa";

/** Design patterns the stack program can build; `zabbix-ha:pattern` picks one. */
export const PATTERNS = ["zabbix-ha"] as const;
export type PatternName = (typeof PATTERNS)[number];

/**
 * The stack program: read and validate the whole configuration first (one error listing every
 * problem, before any resource exists), then build the chosen pattern.
 */
export function runStack(config = new pulumi.Config("zabbix-ha")) {
    const { raw, sshPrivateKey } = readRawConfig(config);
    const pattern = raw.pattern ?? "zabbix-ha";
    if (!PATTERNS.includes(pattern as PatternName)) {
        throw new ConfigError([{ path: "pattern", message: `${JSON.stringify(pattern)} is not one of ${PATTERNS.join(", ")}` }]);
    }
    const checked = validateStackConfig(raw, {
        hasSshKey: sshPrivateKey !== undefined,
        minSites: 2,
        requiredRoles: ["db", "zabbix-server", "frontend", "lb"],
    });
    return deployZabbixHa(checked, sshPrivateKey!);
}
