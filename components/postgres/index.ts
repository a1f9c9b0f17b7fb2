export * from "./render";
export * from "./steps";
export * from "./passwords";
export * from "./PostgresCluster";
export * from "./ManagedDatabase";
export * from "./database";
export * from "./patroni";
export * from "./PatroniCluster";
