import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/** Bytes of every generated pre-shared key: 256 bits, the most Zabbix reads (TLSPSKFile holds up to 512 hex digits). */
export const PSK_BYTES = 32;

/** A pre-shared key and the identity it goes with. */
export interface Psk {
    /** TLSPSKIdentity: what the server's proxy or host object must name too (no secret in it). */
    readonly identity: string;
    /** The key, hex: a Pulumi secret. */
    readonly hex: pulumi.Output<string>;
}

/**
 * A PSK of one proxy or agent from @pulumi/random. RandomBytes, not RandomId: RandomId's resource id
 * is its value in base64, which the state would keep in clear; RandomBytes marks its outputs secret.
 */
export function generatePsk(name: string, identity: string, parent: pulumi.Resource): Psk {
    const bytes = new random.RandomBytes(`${name}-psk`, { length: PSK_BYTES }, { parent });
    return { identity, hex: pulumi.secret(bytes.hex) };
}
