/**
 * Pure renderers of the data path's hosts: typed input in, file text out, no Pulumi. One file per
 * file the host reads: a proxy's zabbix_proxy.conf (zabbixProxyConf.ts) and a monitored host's
 * zabbix_agent2.conf (zabbixAgent2Conf.ts). Tests hand each to the program that reads it (-T).
 */
export * from "./zabbixProxyConf";
export * from "./zabbixAgent2Conf";
