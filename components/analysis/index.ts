export * from "./topology";
export * from "./evaluate";
export * from "./scenarios";
export * from "./availability";
export * from "./cost";
