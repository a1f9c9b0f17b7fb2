export * from "./types";
export * from "./validate";
export * from "./duration";
export * from "./network";
