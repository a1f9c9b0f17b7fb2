/**
 * The type tokens of the provider resources the components declare, spelled once. The providers
 * keep their own tokens internal to their SDKs, so the policies, the offline capture and the lab
 * read them from here.
 */
export const RESOURCE_TYPES = {
    command: "command:remote:Command",
    randomPassword: "random:index/randomPassword:RandomPassword",
    randomBytes: "random:index/randomBytes:RandomBytes",
    postgresqlProvider: "pulumi:providers:postgresql",
    postgresqlRole: "postgresql:index/role:Role",
    postgresqlDatabase: "postgresql:index/database:Database",
    postgresqlGrant: "postgresql:index/grant:Grant",
    postgresqlReplicationSlot: "postgresql:index/physicalReplicationSlot:PhysicalReplicationSlot",
    tlsPrivateKey: "tls:index/privateKey:PrivateKey",
    tlsSelfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    tlsCertRequest: "tls:index/certRequest:CertRequest",
    tlsLocallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
} as const;

/**
 * Resources whose whole effect is their outputs, made by the engine's providers where `pulumi up`
 * runs (a password, a key, a certificate): nothing on a host. The offline capture makes real
 * ones; the lab records them and applies nothing for them.
 */
export const GENERATED_TYPES: ReadonlySet<string> = new Set([
    RESOURCE_TYPES.randomPassword,
    RESOURCE_TYPES.randomBytes,
    RESOURCE_TYPES.tlsPrivateKey,
    RESOURCE_TYPES.tlsSelfSignedCert,
    RESOURCE_TYPES.tlsCertRequest,
    RESOURCE_TYPES.tlsLocallySignedCert,
]);

/** The package every component token starts with. */
export const PACKAGE = "zabbix-ha";
