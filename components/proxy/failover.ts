/**
 * How long an agent's values wait when its proxy is lost: the bound its buffers are sized to outlast.
 */
import { PROXY_CONFIG_FREQUENCY_SECONDS } from "./zabbixProxyConf";

/**
 * How long agent 2 waits before it asks for its active checks again once a request failed: a
 * minute, whatever RefreshActiveChecks says. Measured in the lab on Debian 13's agent 2 7.0.22: the
 * agent of a killed proxy asked again 60 s and 120 s after the kill, and its values flowed through
 * the group's other proxy 125 s after it (ZBX-26745 reports the same minute on 7.0.17).
 */
export const AGENT_RETRY_AFTER_FAILURE_SECONDS = 60;

/**
 * The server counts a silent proxy offline after the group's failover_delay and moves its hosts to
 * the group's other proxies; the proxy that takes a host learns of it at its next configuration sync,
 * and the agent, whose request to the lost proxy failed, asks again a minute later.
 */
export function proxyGroupFailoverSeconds(failoverDelaySeconds: number): number {
    return failoverDelaySeconds + PROXY_CONFIG_FREQUENCY_SECONDS + AGENT_RETRY_AFTER_FAILURE_SECONDS;
}
