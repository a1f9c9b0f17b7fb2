export * from "./render";
export * from "./SiteLoadBalancer";
