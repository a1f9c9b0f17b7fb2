/**
 * The type tokens of the provider resources the components declare, spelled once. The providers
 * keep their own tokens internal to their SDKs, so the policies, the offline capture and the lab
 * read them from here.
 */
export const RESOURCE_TYPES = {
    command: "command:remote:Command",
    randomPassword: "random:index/randomPassword:RandomPassword",
    postgresqlProvider: "pulumi:providers:postgresql",
    postgresqlRole: "postgresql:index/role:Role",
    postgresqlDatabase: "postgresql:index/database:Database",
    postgresqlGrant: "postgresql:index/grant:Grant",
    postgresqlReplicationSlot: "postgresql:index/physicalReplicationSlot:PhysicalReplicationSlot",
} as const;

/** The package every component token starts with. */
export const PACKAGE = "zabbix-ha";
