import * as pulumi from "@pulumi/pulumi";
import { serviceSites } from "../../components/config";
import { Host } from "../../components/host";
import { PatternModule } from "./types";
import { buildPki, buildSites, registerDeclared, stackDesign, withFirewalls } from "./common";
import { withDataPath } from "./dataPath";
import { BuiltInstance, buildInstance } from "./instance";

/** Every site's complete installation, as patterns 1 and 2 build it, one site at a time. */
export async function perSiteInstances(
    config: Parameters<PatternModule["deploy"]>[0],
    hosts: ReadonlyMap<string, Host>,
    superAdminPasswordHash: pulumi.Input<string>,
): Promise<BuiltInstance[]> {
    const instances: BuiltInstance[] = [];
    for (const site of serviceSites(config)) {
        instances.push(
            buildInstance(config, hosts, {
                prefix: `${site.name}-`,
                name: site.name,
                sites: [site.name],
                database: { kind: "self-run", primarySite: site.name },
                superAdminPasswordHash,
            }),
        );
        await registerDeclared();
    }
    return instances;
}

/** A complete Zabbix in every site (but witness sites): patterns 1 and 2. */
export const PER_SITE_REQUIREMENTS = {
    minSites: 2,
    requiredRoles: ["db", "zabbix-server", "frontend", "lb"],
    rolesInEverySite: ["db", "zabbix-server", "frontend", "lb"],
    selfRunDatabase: true,
} as const;

/**
 * Pattern 1: a complete Zabbix (server, DB, frontend) per site, each behind its site's load
 * balancer. Nothing fails over; every site monitors everything, so data and alerts are duplicated.
 */
export const standalone: PatternModule = {
    id: 1,
    name: "standalone",
    summary: "a complete Zabbix per site; no failover; duplicated data and alerts, double management",
    requirements: PER_SITE_REQUIREMENTS,
    async deploy(config, secrets) {
        const pki = buildPki(config, secrets.pkiCaPrivateKey);
        const hosts = await buildSites(config, secrets.sshPrivateKey, pki);
        const instances = await perSiteInstances(config, hosts, secrets.superAdmin.bcryptHash);
        return withFirewalls(config, hosts, {
            design: withDataPath(
                config,
                hosts,
                stackDesign(
                    config,
                    this,
                    hosts,
                    instances.map(i => i.design),
                ),
                instances,
                secrets.superAdmin.password,
            ),
            caCertificate: pki.caCertPem,
            uiUrls: Object.assign({}, ...instances.map(i => i.uiUrls)),
        });
    },
};
