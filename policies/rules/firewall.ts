/**
 * The host firewall: whether every host filters what reaches it, and whether SSH, the way in to
 * every host's administrator, is admitted from narrow networks only. Both read what the components
 * declare (HOST and HOST_FIREWALL facts), never the config the program was built from.
 */
import { StackValidationPolicy } from "@pulumi/policy";
import { ADMIN_NETWORK_MIN_PREFIX } from "../../components/config/db";
import { HOST, HOST_FIREWALL, factsOf } from "./facts";

/**
 * Advisory: the firewall is optional (hosts you already run may serve traffic the stack does not
 * know), on in the prod example. Without it every service listens to whoever reaches the host's
 * address. Reported once when no host loads it, else once per host that does not.
 */
export const hostFirewallEnabled: StackValidationPolicy = {
    name: "host-firewall-enabled",
    description: "Every host loads the host firewall (firewall.enabled), which admits only the flows its roles need.",
    enforcementLevel: "advisory",
    validateStack: (args, report) => {
        const filtered = new Set(factsOf(args.resources, HOST_FIREWALL).map(f => f.facts.host));
        const open = factsOf(args.resources, HOST)
            .map(h => h.facts.host)
            .filter(h => !filtered.has(h));
        const how =
            "set firewall.enabled: true, with firewall.sshFrom naming where pulumi up runs if that is not db.adminNetwork";
        if (open.length === 0) {
            return;
        }
        if (filtered.size === 0) {
            report(
                `No host loads the host firewall: every service on all ${open.length} hosts answers anyone who reaches it; ${how}.`,
            );
            return;
        }
        for (const host of open) {
            report(
                `Host ${host} loads no host firewall while others do: every service on it answers anyone who reaches it; ${how}.`,
            );
        }
    },
};

/** What a source admits, as a prefix length: "any" is /0, a bare address /32. */
function prefixOf(source: string): number {
    if (source === "any") {
        return 0;
    }
    const [, bits] = source.split("/");
    return bits === undefined ? 32 : Number(bits);
}

/**
 * Mandatory: a firewall that admits SSH from everywhere (or a network wider than db.adminNetwork may
 * be) lets the whole internet try the administrator's login, which the config refuses for
 * firewall.sshFrom; this checks what the firewalls really declare.
 */
export const firewallSshNarrow: StackValidationPolicy = {
    name: "firewall-ssh-narrow",
    description: `A host firewall admits SSH only from networks of /${ADMIN_NETWORK_MIN_PREFIX} or narrower, never from anywhere.`,
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const { facts } of factsOf(args.resources, HOST_FIREWALL)) {
            for (const admit of facts.admits.filter(a => a.services.includes("ssh"))) {
                const wide = admit.sources.filter(s => prefixOf(s) < ADMIN_NETWORK_MIN_PREFIX);
                if (wide.length > 0) {
                    report(
                        `Host ${facts.host}'s firewall admits SSH (${admit.protocol}/${admit.port}) from ${wide.join(", ")}: ` +
                            `name where pulumi up and your jump hosts run (db.adminNetwork, firewall.sshFrom), /${ADMIN_NETWORK_MIN_PREFIX} or narrower.`,
                    );
                }
            }
        }
    },
};
