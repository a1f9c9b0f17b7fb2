import { hostsWithRole, serviceSites } from "../../components/config";
import { ConfigSync, SUPER_ADMIN_USER } from "../../components/zabbix";
import { PatternModule } from "./types";
import { buildPki, buildSites, stackDesign, withFirewalls } from "./common";
import { withDataPath } from "./dataPath";
import { PER_SITE_REQUIREMENTS, perSiteInstances } from "./standalone";

/**
 * Pattern 2: a complete Zabbix per site, and the configuration of one designated site copied to
 * the others on a timer through the Zabbix API. Supported by the vendor, but licensed per site.
 */
export const activeActive: PatternModule = {
    id: 2,
    name: "active-active",
    summary: "a complete Zabbix per site with configuration copied from one site through the API; paid per site",
    requirements: { ...PER_SITE_REQUIREMENTS, sections: ["configSync"] },
    async deploy(config, secrets) {
        const sync = config.configSync!;
        const runner = hostsWithRole(config, "zabbix-server").find(h => h.site === sync.sourceSite)!;
        const pki = buildPki(config, secrets.pkiCaPrivateKey);
        const hosts = await buildSites(config, secrets.sshPrivateKey, pki, {
            extraPackages: { [runner.name]: ["jq", "curl"] },
        });
        const instances = await perSiteInstances(config, hosts, secrets.superAdmin.bcryptHash);
        const api = (site: string) => `${instances.find(i => i.design.name === site)!.uiUrls[site]}api_jsonrpc.php`;
        const targets = serviceSites(config)
            .map(s => s.name)
            .filter(s => s !== sync.sourceSite);
        const copy = new ConfigSync("config-sync", {
            host: hosts.get(runner.name)!,
            sourceUrl: api(sync.sourceSite),
            targetUrls: targets.map(api),
            apiUser: sync.apiUser,
            // Validation holds zabbixApiPassword to a user other than Admin, whose password the stack generates.
            apiPassword: sync.apiUser === SUPER_ADMIN_USER ? secrets.superAdmin.password : secrets.zabbixApiPassword!,
            intervalMinutes: sync.intervalMinutes,
            after: instances.flatMap(i => i.frontends),
        });
        return withFirewalls(
            config,
            hosts,
            {
                design: withDataPath(
                    config,
                    hosts,
                    stackDesign(
                        config,
                        this,
                        hosts,
                        instances.map(i => i.design),
                        {
                            configSync: {
                                source: sync.sourceSite,
                                targets,
                                intervalSeconds: copy.facts.intervalSeconds,
                            },
                        },
                    ),
                    instances,
                    secrets.superAdmin.password,
                ),
                caCertificate: pki.caCertPem,
                uiUrls: Object.assign({}, ...instances.map(i => i.uiUrls)),
            },
            [runner.name],
        );
    },
};
