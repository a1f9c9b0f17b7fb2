/**
 * What Zabbix agents and proxies are told about one server cluster (`Server`, `ServerActive`), and
 * the agent include file (zabbix_agentd.d / zabbix_agent2.d) that carries it. Pure.
 */
import { RENDERED_HEADER } from "../shell";

/** What Zabbix agents and proxies need to reach one server cluster. */
export interface AgentServerSettings {
    /** Passive checks: every node (or the VIP) may poll, comma-separated. */
    readonly Server: string;
    /** Active checks: the nodes of ONE cluster separated by ";" (a "," would mean separate servers, each sent everything). */
    readonly ServerActive: string;
}

/** The settings for a cluster whose nodes (or VIP) listen at `addresses` on `port`. */
export function agentServerSettings(addresses: readonly string[], port: number): AgentServerSettings {
    return { Server: addresses.join(","), ServerActive: addresses.map(a => `${a}:${port}`).join(";") };
}

/** The agent configuration lines, for an include file in zabbix_agentd.d / zabbix_agent2.d. */
export function renderAgentServerSettings(s: AgentServerSettings): string {
    return `# ${RENDERED_HEADER}\nServer=${s.Server}\nServerActive=${s.ServerActive}\n`;
}
