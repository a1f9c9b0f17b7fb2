export * from "./definitions";
export * from "./read";
export * from "./resources";
