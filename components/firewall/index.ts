export * from "./flows";
export * from "./ruleset";
export * from "./unit";
export * from "./steps";
export * from "./HostFirewall";
