export * from "./types";
export * from "./validate";
export * from "./sites";
export * from "./duration";
export * from "./network";
export * from "./reader";
export * from "./sections";
export * from "./patternSections";
