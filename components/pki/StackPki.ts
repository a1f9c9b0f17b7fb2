import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { PKI } from "../facts";
import { CertificateNames } from "./names";

/** ECDSA P-256: what every client here speaks (libpq, etcd, Patroni, HAProxy, nginx, curl), and small. */
const KEY = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;
/** A CA outlives the hosts' certificates many times over; it changes only by rotation. */
const CA_VALIDITY_HOURS = 10 * 365 * 24;
/** A host certificate is valid two years and renewed by `pulumi up` in its last 30 days. */
export const HOST_CERT_VALIDITY_HOURS = 2 * 365 * 24;
export const HOST_CERT_RENEWAL_HOURS = 30 * 24;

/** A CA the operator brings (a corporate one) instead of the stack's own. */
export interface ProvidedCa {
    /** The CA certificate, PEM. */
    readonly certPem: string;
    /** Its private key, PEM; a Pulumi secret. */
    readonly privateKeyPem: pulumi.Input<string>;
}

/**
 * StackPkiArgs choose the stack's CA: its own (generated once, kept in the stack's state) or the
 * operator's.
 */
export interface StackPkiArgs {
    /** The stack's name for its CA certificate's subject. */
    readonly stack: string;
    /** The operator's CA; without it the stack makes its own. */
    readonly ca?: ProvidedCa;
    /**
     * How many times the stack's keys were rotated (`pki.rotation`): raising it makes a new CA (its
     * own) and a new key and certificate for every host, which `pulumi up` installs.
     */
    readonly rotation: number;
}

/** A host's key and certificate, as its TLS step installs them. */
export interface HostCertificate {
    /** The CA certificate every client verifies against, PEM. */
    readonly caCertPem: pulumi.Output<string>;
    readonly certPem: pulumi.Output<string>;
    /** The host's private key, PEM; a Pulumi secret. */
    readonly privateKeyPem: pulumi.Output<string>;
}

/**
 * StackPki is one CA per stack (`@pulumi/tls`: keys and certificates made by the engine and kept
 * in its state, private keys secret end to end) and a certificate for each host with the names and
 * addresses it is reached by.
 */
export class StackPki extends pulumi.ComponentResource {
    /** The CA certificate, PEM: exported so that operators and browsers can trust the UI. */
    public readonly caCertPem: pulumi.Output<string>;
    private readonly caPrivateKeyPem: pulumi.Output<string>;
    private readonly name: string;
    private readonly rotation: number;

    constructor(name: string, args: StackPkiArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts = { ca: args.ca ? ("provided" as const) : ("generated" as const), rotation: args.rotation };
        super(PKI.token, name, facts, opts);
        this.name = name;
        this.rotation = args.rotation;
        if (args.ca) {
            this.caCertPem = pulumi.output(args.ca.certPem);
            this.caPrivateKeyPem = pulumi.secret(args.ca.privateKeyPem);
        } else {
            const key = new tls.PrivateKey(`${name}-ca-key${this.suffix()}`, KEY, { parent: this });
            const ca = new tls.SelfSignedCert(
                `${name}-ca${this.suffix()}`,
                {
                    privateKeyPem: key.privateKeyPem,
                    subject: { commonName: `zabbix-ha ${args.stack} CA`, organization: "zabbix-ha" },
                    isCaCertificate: true,
                    // Host certificates only: no intermediate CA below this one.
                    maxPathLength: 0,
                    validityPeriodHours: CA_VALIDITY_HOURS,
                    allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
                },
                { parent: this },
            );
            this.caCertPem = ca.certPem;
            this.caPrivateKeyPem = key.privateKeyPem;
        }
        this.registerOutputs({ caCertPem: this.caCertPem });
    }

    /**
     * Issues a host's key and certificate: server and client use (one host identity serves its
     * PostgreSQL, Patroni, etcd and UI, and authenticates it to etcd), named as `names` says.
     */
    public hostCertificate(host: string, names: CertificateNames): HostCertificate {
        const opts = { parent: this };
        const key = new tls.PrivateKey(`${this.name}-${host}-key${this.suffix()}`, KEY, opts);
        const request = new tls.CertRequest(
            `${this.name}-${host}-csr${this.suffix()}`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: host, organization: "zabbix-ha" },
                dnsNames: [...names.dnsNames],
                ipAddresses: [...names.ipAddresses],
            },
            opts,
        );
        const cert = new tls.LocallySignedCert(
            `${this.name}-${host}-cert${this.suffix()}`,
            {
                certRequestPem: request.certRequestPem,
                caCertPem: this.caCertPem,
                caPrivateKeyPem: this.caPrivateKeyPem,
                validityPeriodHours: HOST_CERT_VALIDITY_HOURS,
                earlyRenewalHours: HOST_CERT_RENEWAL_HOURS,
                allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
            },
            opts,
        );
        return { caCertPem: this.caCertPem, certPem: cert.certPem, privateKeyPem: pulumi.secret(key.privateKeyPem) };
    }

    /** Resource names carry the rotation count, so raising it makes new keys (the engine replaces them). */
    private suffix(): string {
        return this.rotation > 0 ? `-r${this.rotation}` : "";
    }
}
