export * from "./topology";
export * from "./evaluate";
export * from "./causes";
export * from "./scenarios";
export * from "./availability";
export * from "./cost";
export * from "./config";
export * from "./design";
