export * from "./Host";
export * from "./Site";
export * from "./render";
export * from "./errors";
