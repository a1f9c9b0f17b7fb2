export * from "./render";
export * from "./steps";
export * from "./ZabbixServerCluster";
export * from "./Frontend";
export * from "./ConfigSync";
export * from "./ZabbixObjects";
export * from "./superAdmin";
