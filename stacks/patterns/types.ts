import * as pulumi from "@pulumi/pulumi";
import { StackDesign, Topology } from "../../model";
import { PatternRequirements, StackConfig } from "../../components/config";
import { ModelConfig } from "../../model";
import { SuperAdminPassword } from "../../components/zabbix";

/** Secrets a pattern may need: from config, and the stack's generated Super Admin password; all are Pulumi secrets. */
export interface PatternSecrets {
    readonly sshPrivateKey: pulumi.Output<string>;
    /** Generated: set on every installation's `Admin` as its schema loads, and what the config sync logs in with. */
    readonly superAdmin: SuperAdminPassword;
    readonly zabbixApiPassword?: pulumi.Output<string>;
    readonly cloudDbAdminPassword?: pulumi.Output<string>;
    /** The fence devices' password, written to both pair nodes (FENCE_PASSWORD_FILE). */
    readonly fencePassword?: pulumi.Output<string>;
    /** The operator's CA key, with pki.caCertificate. */
    readonly pkiCaPrivateKey?: pulumi.Output<string>;
}

/** What every pattern's stack exports. */
export interface PatternOutputs {
    /** What it built, by its components' declared facts. */
    readonly design: StackDesign;
    /** The Zabbix UI through each entry point. */
    readonly uiUrls: Record<string, string>;
    /** The CA certificate (PEM) every host's certificate verifies against: trust it to reach the UI. */
    readonly caCertificate: pulumi.Output<string>;
}

/**
 * What the stack program exports: the pattern's outputs, the topology the model derives from its
 * design (where each piece sits and how it fails over: the preview's analysis and the lab's drills
 * read it), and the model's settings.
 */
export interface StackOutputs extends PatternOutputs {
    readonly topology: Topology;
    readonly model: ModelConfig;
    /** The Zabbix Super Admin's (`Admin`) password on every installation: a secret output. */
    readonly zabbixAdminPassword: pulumi.Output<string>;
}

/** One design pattern of the study, as a module that composes the components. */
export interface PatternModule {
    readonly id: number;
    readonly name: string;
    /** One line for the reader of the comparison. */
    readonly summary: string;
    /** Set on the pattern the study chose: one line of why, for the comparison's reader. */
    readonly studyChoice?: string;
    readonly requirements: PatternRequirements;
    /** Declares the pattern's resources, yielding between sites so that the SDK registers as it goes. */
    deploy(config: StackConfig, secrets: PatternSecrets): Promise<PatternOutputs>;
}
