export * from "./render";
export * from "./steps";
export * from "./SiteLoadBalancer";
export * from "./ports";
