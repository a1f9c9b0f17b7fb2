/**
 * The second seed's pair: fencing is mandatory, and DRBD's meta-disk gets a partition of its own.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { DRBD_PAIR, validateFactsOf } from "./facts";

export const pacemakerFencing: ResourceValidationPolicy = {
    name: "pacemaker-fencing",
    description: "A Pacemaker pair has fencing enabled, with a fence device for each node.",
    enforcementLevel: "mandatory",
    validateResource: validateFactsOf(DRBD_PAIR, (facts, args, report) => {
        const unfenced = facts.nodes.filter(n => !facts.fencing.devices.includes(n.host)).map(n => n.host);
        if (!facts.fencing.enabled || unfenced.length > 0) {
            report(
                `Pair ${args.name} can promote both sides after a split: ${unfenced.length > 0 ? `${unfenced.join(", ")} has no fence device` : "fencing is off"}. ` +
                    "Configure drbd.fencing with a device per node.",
            );
        }
    }),
};

export const drbdDedicatedMetaDisk: ResourceValidationPolicy = {
    name: "drbd-dedicated-meta-disk",
    description: "DRBD's meta-disk sits on a partition of its own, so image backups of the data restore cleanly.",
    enforcementLevel: "advisory",
    validateResource: validateFactsOf(DRBD_PAIR, (facts, args, report) => {
        if (facts.metaDisk === "internal" || facts.metaDisk === facts.disk) {
            report(
                `Pair ${args.name} keeps DRBD's meta-data on the data disk ${facts.disk}; put it on a dedicated partition (drbd.metaDisk).`,
            );
        }
    }),
};
