export * from "./render";
export * from "./ZabbixServerCluster";
export * from "./Frontend";
