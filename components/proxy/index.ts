/**
 * The data path in front of the servers: active proxies in proxy groups (7.0) and agent 2 on the
 * monitored hosts, each with its own PSK.
 *
 * The Zabbix objects they need (each proxy group, each proxy with its PSK and local address, each
 * agent's host monitored by its group) are made through the API by ZabbixObjects (components/zabbix),
 * fed by ZabbixProxy.psk and ZabbixAgent.psk and the config's proxy groups (stacks/patterns/dataPath.ts).
 */
export * from "./render";
export * from "./steps";
export * from "./psk";
export * from "./failover";
export * from "./dataPathCheck";
export * from "./ZabbixDaemon";
export * from "./ZabbixProxy";
export * from "./ZabbixAgent";
