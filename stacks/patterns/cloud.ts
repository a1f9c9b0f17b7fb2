import { serviceSites } from "../../components/config";
import { PatternModule } from "./types";
import { buildPki, buildSites, stackDesign, withFirewalls } from "./common";
import { withDataPath } from "./dataPath";
import { buildInstance } from "./instance";

/**
 * Pattern 4: hosts rented in two or more cloud zones (the sites), reached over SSH, with native HA
 * server nodes and a managed PostgreSQL that the provider keeps redundant; the stack configures
 * that database only through the PostgreSQL provider and runs no DB itself.
 */
export const cloud: PatternModule = {
    id: 4,
    name: "cloud",
    summary: "rented instances in several zones; a managed PostgreSQL the provider keeps redundant",
    requirements: {
        minSites: 2,
        requiredRoles: ["zabbix-server", "frontend", "lb"],
        selfRunDatabase: false,
        sections: ["cloud"],
    },
    async deploy(config, secrets) {
        // The managed service is the database: db hosts, if any, stay unused.
        const pki = buildPki(config, secrets.pkiCaPrivateKey);
        const hosts = await buildSites(config, secrets.sshPrivateKey, pki, {
            hosts: site =>
                site.hosts
                    .map(h => ({ ...h, roles: h.roles.filter(r => r !== "db" && r !== "witness") }))
                    .filter(h => h.roles.length > 0),
            // The endpoint's clients verify it against its provider's CA, installed with their TLS files.
            databaseCaCertPem: config.cloud!.database.caCertificate,
        });
        const instance = buildInstance(config, hosts, {
            prefix: "",
            name: "zabbix",
            // Zones that run instances; a witness site is not a zone.
            sites: serviceSites(config).map(s => s.name),
            database: {
                kind: "managed",
                endpoint: config.cloud!.database,
                adminPassword: secrets.cloudDbAdminPassword!,
            },
            superAdminPasswordHash: secrets.superAdmin.bcryptHash,
        });
        return withFirewalls(config, hosts, {
            design: withDataPath(
                config,
                hosts,
                stackDesign(config, this, hosts, [instance.design], { cloud: true }),
                [instance],
                secrets.superAdmin.password,
            ),
            caCertificate: pki.caCertPem,
            uiUrls: instance.uiUrls,
        });
    },
};
