export * from "./render";
export * from "./steps";
export * from "./passwords";
export * from "./PostgresCluster";
export * from "./ManagedDatabase";
