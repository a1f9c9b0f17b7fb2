export * from "./files";
export * from "./names";
export * from "./StackPki";
export * from "./steps";
export * from "./tlsPolicy";
