/**
 * The data path in front of the servers: active proxies in proxy groups (7.0) and agent 2 on the
 * monitored hosts, each with its own PSK.
 *
 * Not here yet: the Zabbix objects. The proxy group (failover_delay, min_online), each proxy with its
 * PSK identity and key and its local_address (the proxy's address), and each agent's host (monitored
 * by the group, with its PSK) belong in one idempotent step that talks to the Zabbix API once the
 * schema is loaded and a server runs: a ZabbixObjects component beside ConfigSync (components/zabbix),
 * fed by ZabbixProxy.psk and ZabbixAgent.psk and the proxy groups of the config. Until it exists the
 * servers do not know the proxies, so proxies are refused by the servers and agents' data goes nowhere.
 */
export * from "./render";
export * from "./steps";
export * from "./psk";
export * from "./failover";
export * from "./ZabbixDaemon";
export * from "./ZabbixProxy";
export * from "./ZabbixAgent";
