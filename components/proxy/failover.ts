/**
 * How long an agent's values wait when its proxy is lost: the bound its buffers are sized to outlast.
 */
import { REFRESH_ACTIVE_CHECKS_SECONDS } from "./zabbixAgent2Conf";
import { PROXY_CONFIG_FREQUENCY_SECONDS } from "./zabbixProxyConf";

/**
 * The server counts a silent proxy offline after the group's failover_delay and moves its hosts to
 * the group's other proxies; the proxy that takes a host learns of it at its next configuration sync,
 * and the agent, redirected there, asks for its checks again within RefreshActiveChecks.
 */
export function proxyGroupFailoverSeconds(failoverDelaySeconds: number): number {
    return failoverDelaySeconds + PROXY_CONFIG_FREQUENCY_SECONDS + REFRESH_ACTIVE_CHECKS_SECONDS;
}
