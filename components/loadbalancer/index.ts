export * from "./render";
export * from "./primaryCheck";
export * from "./SiteLoadBalancer";
