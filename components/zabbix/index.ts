export * from "./render";
export * from "./ZabbixServerCluster";
export * from "./Frontend";
export * from "./configSyncRender";
export * from "./ConfigSync";
