export * from "./render";
export * from "./steps";
export * from "./fencing";
export * from "./DrbdPair";
