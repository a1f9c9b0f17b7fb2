import * as ipaddr from "ipaddr.js";

/** Dotted-quad IPv4 only: no shorthand forms such as "10.1", which ipaddr.js would otherwise accept. */
export function isIPv4(value: string): boolean {
    return ipaddr.IPv4.isValidFourPartDecimal(value);
}

/** Why a CIDR string is unusable as a site network, or undefined when it is fine. */
export function cidrProblem(value: string): string | undefined {
    const [address, bits, ...rest] = value.split("/");
    if (rest.length > 0 || bits === undefined || !/^\d{1,2}$/.test(bits) || !isIPv4(address)) {
        return `"${value}" is not an IPv4 network in CIDR form (for example 198.18.1.0/24)`;
    }
    if (Number(bits) > 32) {
        return `"${value}" has a prefix longer than 32 bits`;
    }
    const network = ipaddr.IPv4.networkAddressFromCIDR(value).toString();
    if (network !== address) {
        return `"${value}" has host bits set; the network is ${network}/${bits}`;
    }
    return undefined;
}

export function cidrContains(cidr: string, address: string): boolean {
    return ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parseCIDR(cidr));
}

export function cidrsOverlap(a: string, b: string): boolean {
    const [addrA, bitsA] = ipaddr.IPv4.parseCIDR(a);
    const [addrB, bitsB] = ipaddr.IPv4.parseCIDR(b);
    // Two aligned networks overlap exactly when the shorter prefix contains the other's base.
    return bitsA <= bitsB ? addrB.match(addrA, bitsA) : addrA.match(addrB, bitsB);
}

/** Orders addresses and networks numerically (198.18.2.10 before 198.18.10.10), for canonical renders. */
export function compareAddresses(a: string, b: string): number {
    const key = (s: string) =>
        s
            .split(/[./]/)
            .map(n => n.padStart(3, "0"))
            .join(".");
    return key(a).localeCompare(key(b));
}

/** An address as a one-host network (198.18.1.10/32); a network in CIDR form stays as it is. */
export function hostCidr(source: string): string {
    return source.includes("/") ? source : `${source}/32`;
}
