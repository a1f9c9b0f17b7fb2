export * from "./capture";
export * from "./environment";
export * from "./stack";
