import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PlacedHost, ZabbixConfig } from "../config/types";
import { HOST, HostFacts } from "../facts";
import { HostCertificate, TLS_SECRETS, oneLine, tlsStep } from "../pki";
import { asHostUser, readSecrets, readSecretsForDelete, script } from "../shell";
import { renderFor } from "./errors";
import { ExtraRepository, renderPackageStep } from "./render";

/**
 * HostArgs describe one machine of a site, reached over SSH.
 */
export interface HostArgs {
    /** The host as validated from the stack configuration, with the site it sits in. */
    readonly host: PlacedHost;
    /** SSH private key for `host.sshUser`; a Pulumi secret. */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** Zabbix series and package source, for the package step. */
    readonly zabbix: ZabbixConfig;
    /** Packages a pattern adds beyond the roles' (a cluster manager, the config sync's tools). */
    readonly extraPackages?: readonly string[];
    /** apt repositories a pattern adds before the packages install (a newer Patroni). */
    readonly extraRepositories?: readonly ExtraRepository[];
    /**
     * The host's site is lost (down or cut off, `sites[i].lost`): `pulumi up` changes nothing on it
     * and so never waits for it; its steps keep what they last applied until the site is back.
     */
    readonly lost?: boolean;
    /** Whether the host loads the host firewall (components/firewall): its package step installs nftables. */
    readonly firewall?: boolean;
    /** The host's key and certificate from the stack's PKI, installed before any service step. */
    readonly tls: HostTlsArgs;
}

/** A host's TLS identity and who on it reads its key. */
export interface HostTlsArgs {
    readonly certificate: HostCertificate;
    /** An etcd member runs on the host (a witness, or a DB host under Patroni): etcd gets its own key copy. */
    readonly etcdMember: boolean;
    /** The managed database's CA bundle (PEM), for a host that reaches its endpoint: installed as DATABASE_CA_FILE. */
    readonly databaseCaCertPem?: pulumi.Input<string>;
}

/** A secret handed to a step's script on stdin and read into a shell variable. */
export interface StepSecret {
    /** Shell variable the script reads the value into. */
    readonly variable: string;
    readonly value: pulumi.Input<string>;
}

/** One script to run on a host. */
export interface HostStepArgs {
    /** Script body (POSIX sh); the shared prelude and the secret reads are added in front. */
    readonly script: string;
    /** Secrets for the script, passed on stdin in this order; never part of the command text. */
    readonly secrets?: readonly StepSecret[];
    /**
     * What undoes the step when it leaves the stack (the host, its role or the step removed) or is
     * replaced. It runs as the engine runs a Command's delete: the text and connection recorded at the
     * last create or update, with the same stdin, so it reads the same secrets in the same order.
     */
    readonly delete?: string;
}

/** Every input of a remote Command: on a lost site's host, a change to any of them is held back. */
const COMMAND_INPUTS = [
    "create",
    "update",
    "delete",
    "stdin",
    "connection",
    "environment",
    "triggers",
    "logging",
    "addPreviousOutputInEnv",
];

/**
 * Host is one machine reached by `remote.Command` over SSH. Its base step installs the packages its
 * roles need (adding the vendor's Zabbix repository when that source is chosen); other components
 * run their steps on it through `step`, after the base step.
 */
export class Host extends pulumi.ComponentResource {
    /** The validated host configuration. */
    public readonly config: PlacedHost;
    /** SSH connection settings; the private key stays secret. */
    public readonly connection: command.types.input.remote.ConnectionArgs;
    /** The base step: package sources and packages. */
    public readonly packages: command.remote.Command;
    /** The step that installs the host's CA, certificate and keys (TLS_DIR); every later step runs after it. */
    public readonly tlsFiles: command.remote.Command;
    /** The stack's CA certificate (PEM), which this host's certificate verifies against. */
    public readonly caCertPem: pulumi.Output<string>;
    /** Whether the host's site is declared lost: its steps' changes are held back. */
    public readonly lost: boolean;
    /** What it declares: where it sits, its roles and OS, its size. */
    public readonly facts: HostFacts;

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        const h = args.host;
        const facts: HostFacts = {
            host: h.name,
            site: h.site,
            address: h.address,
            roles: [...h.roles],
            os: h.os,
            ...(h.cpus !== undefined ? { cpus: h.cpus } : {}),
            ...(h.memoryGiB !== undefined ? { memoryGiB: h.memoryGiB } : {}),
        };
        super(HOST.token, name, facts, opts);
        this.facts = facts;
        this.config = args.host;
        this.lost = args.lost ?? false;
        this.connection = {
            host: args.host.address,
            port: args.host.sshPort,
            user: args.host.sshUser,
            privateKey: pulumi.secret(args.sshPrivateKey),
            // Without it the provider accepts any host key, and a machine in the middle gets every secret.
            ...(args.host.sshHostKey ? { hostKey: args.host.sshHostKey } : {}),
        };
        this.packages = this.step(
            `${name}-packages`,
            {
                script: renderFor(this, () =>
                    renderPackageStep({
                        os: args.host.os,
                        roles: args.host.roles,
                        zabbixVersion: args.zabbix.version,
                        packageSource: args.zabbix.packageSource,
                        repositoryUrl: args.zabbix.repositoryUrl,
                        releasePackageSha256: args.zabbix.releasePackageSha256?.[args.host.os],
                        extraPackages: args.extraPackages,
                        extraRepositories: args.extraRepositories,
                        firewall: args.firewall,
                    }),
                ),
            },
            { parent: this },
        );
        const c = args.tls.certificate;
        const databaseCa = args.tls.databaseCaCertPem;
        this.caCertPem = c.caCertPem;
        this.tlsFiles = this.step(
            `${name}-tls`,
            {
                script: tlsStep({
                    roles: h.roles,
                    etcdMember: args.tls.etcdMember,
                    databaseCa: databaseCa !== undefined,
                }),
                secrets: [
                    { variable: TLS_SECRETS.ca, value: c.caCertPem.apply(oneLine) },
                    { variable: TLS_SECRETS.cert, value: c.certPem.apply(oneLine) },
                    { variable: TLS_SECRETS.key, value: c.privateKeyPem.apply(oneLine) },
                    ...(databaseCa !== undefined
                        ? [{ variable: TLS_SECRETS.databaseCa, value: pulumi.output(databaseCa).apply(oneLine) }]
                        : []),
                ],
            },
            { parent: this },
        );
        this.registerOutputs({ packages: this.packages.id });
    }

    /**
     * Creates a command that runs a script on this host after its base step. The caller names it
     * and parents it to itself; secrets travel on stdin, which Pulumi keeps secret.
     */
    public step(name: string, args: HostStepArgs, opts: StepOptions): command.remote.Command {
        const secrets = args.secrets ?? [];
        const reads = readSecrets(secrets.map(s => s.variable));
        const text = script(reads, args.script);
        const stdin =
            secrets.length === 0
                ? undefined
                : pulumi.secret(
                      pulumi.all(secrets.map(s => s.value)).apply(values => values.map(v => `${v}\n`).join("")),
                  );
        // The base step itself is created first, with nothing before it; the TLS step next.
        const after = [this.packages, this.tlsFiles].filter((s): s is command.remote.Command => s !== undefined);
        return new command.remote.Command(
            name,
            {
                connection: this.connection,
                create: asHostUser(text, this.config.sshUser),
                ...(args.delete !== undefined
                    ? {
                          delete: asHostUser(
                              script(readSecretsForDelete(secrets.map(s => s.variable)), args.delete),
                              this.config.sshUser,
                          ),
                      }
                    : {}),
                stdin,
                // The provider would pass previous output through SSH setenv, which sshd refuses by default.
                addPreviousOutputInEnv: false,
            },
            {
                parent: opts.parent,
                dependsOn: [...after, ...(opts.dependsOn ?? [])],
                ...(opts.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
                // Nothing reaches a lost site: what its hosts last applied stays recorded, unchanged, until it is back.
                ...(this.lost ? { ignoreChanges: COMMAND_INPUTS } : {}),
            },
        );
    }
}

/** Options of a step: its parent and the resources it runs after (a plain list, so tools can read the graph). */
export interface StepOptions {
    readonly parent: pulumi.Resource;
    readonly dependsOn?: readonly pulumi.Resource[];
    /** Undo the old step before the new one runs when it is replaced (its delete stops what the create starts). */
    readonly deleteBeforeReplace?: boolean;
}
