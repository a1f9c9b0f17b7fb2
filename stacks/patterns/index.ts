import { activeActive } from "./activeActive";
import { cloud } from "./cloud";
import { pacemaker } from "./pacemaker";
import { standalone } from "./standalone";
import { PatternModule } from "./types";
import { zabbixHa } from "./zabbixHa";

export * from "./types";

/** The design study's five patterns, in its order. */
export const PATTERNS: readonly PatternModule[] = [standalone, activeActive, pacemaker, cloud, zabbixHa];

export function patternNamed(name: string): PatternModule | undefined {
    return PATTERNS.find(p => p.name === name);
}
