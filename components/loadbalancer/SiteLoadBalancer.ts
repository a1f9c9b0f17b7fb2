import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { LOAD_BALANCER, LoadBalancerFacts } from "../facts";
import { Host } from "../host";
import { CA_FILE, HAPROXY_PEM } from "../pki/files";
import { DbRouting, HAPROXY_RUN_DIR, UiRouting } from "./haproxyCfg";
import { PRIMARY_CHECK } from "./primaryCheck";
import { haproxyStep, haproxyStepDelete } from "./steps";

/**
 * SiteLoadBalancerArgs describe the HAProxy of one site: the UI and DB settings as haproxy.cfg
 * takes them (documented there), the host it runs on and the DB check's password.
 */
export interface SiteLoadBalancerArgs extends UiRouting, DbRouting {
    /** The site's lb host. */
    readonly host: Host;
    /** Password of the check role that asks each DB host `pg_is_in_recovery()`; a secret. Needed with DB servers. */
    readonly checkPassword?: pulumi.Input<string>;
}

/**
 * SiteLoadBalancer is a site's own HAProxy: the entry point for the site's users (the UI) and for
 * the site's Zabbix servers and frontends (the database). Each site has its own, so no VIP has to
 * span sites; its DB port follows the primary by role, never by a fixed address.
 */
export class SiteLoadBalancer extends pulumi.ComponentResource {
    /** The lb host. */
    public readonly host: Host;
    /** Address clients of this site use. */
    public readonly address: string;
    public readonly httpPort: number;
    /** The UI's port (the HTTP port redirects to it). */
    public readonly httpsPort: number;
    public readonly dbPort: number;
    /** The step that configures and (re)starts HAProxy. */
    public readonly configured: command.remote.Command;
    /** What it declares: where it sits, how its DB port finds the primary, its backends. */
    public readonly facts: LoadBalancerFacts;

    constructor(name: string, args: SiteLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts: LoadBalancerFacts = {
            site: args.host.config.site,
            host: args.host.config.name,
            address: args.host.config.address,
            // How the DB port picks its server: by asking each one pg_is_in_recovery(), never a fixed address.
            dbRouting:
                args.dbServers.length === 0 ? "none" : args.dbCheck === "patroni" ? "patroni-rest" : "primary-check",
            dbPort: args.dbPort,
            dbServers: args.dbServers.map(b => b.name),
            localFrontends: args.localFrontends.map(b => b.name),
            remoteFrontends: args.remoteFrontends.map(b => b.name),
        };
        super(LOAD_BALANCER.token, name, facts, opts);
        this.facts = facts;
        this.host = args.host;
        this.address = args.host.config.address;
        this.httpPort = args.httpPort;
        this.httpsPort = args.httpsPort;
        this.dbPort = args.dbPort;
        const withDb = args.dbServers.length > 0;
        if (withDb && args.checkPassword === undefined) {
            throw new pulumi.ResourceError(
                `${name}: a load balancer with DB servers needs the check role's password`,
                this,
            );
        }
        this.configured = args.host.step(
            `${name}-haproxy`,
            {
                secrets: withDb ? [{ variable: "CHECK_PASSWORD", value: args.checkPassword! }] : [],
                script: haproxyStep({
                    haproxy: {
                        site: args.host.config.site,
                        bindAddress: args.host.config.address,
                        tls: { certificateWithKey: HAPROXY_PEM, caFile: CA_FILE },
                        httpPort: args.httpPort,
                        httpsPort: args.httpsPort,
                        localFrontends: args.localFrontends,
                        remoteFrontends: args.remoteFrontends,
                        dbPort: args.dbPort,
                        dbServers: args.dbServers,
                        dbAllowedSources: args.dbAllowedSources,
                        primaryCheckCommand: PRIMARY_CHECK,
                        runDir: HAPROXY_RUN_DIR,
                        runAs: "haproxy",
                        dbCheck: args.dbCheck,
                    },
                    checkPasswordVariable: "CHECK_PASSWORD",
                }),
                // The host no longer balances this site: HAProxy and the watcher stop for good.
                delete: haproxyStepDelete(),
            },
            { parent: this },
        );
        this.registerOutputs({
            address: this.address,
            httpPort: this.httpPort,
            httpsPort: this.httpsPort,
            dbPort: this.dbPort,
        });
    }
}
