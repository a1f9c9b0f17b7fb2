export * as config from "./config";
export * as platform from "./platform";
export * as sizing from "./sizing";
export * as shell from "./shell";
export * as host from "./host";
export * as postgres from "./postgres";
export * as zabbix from "./zabbix";
export * as loadbalancer from "./loadbalancer";
