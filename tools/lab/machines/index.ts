/**
 * The lab's machines: this machine's programs and apt sources (run, requirements, sources), the
 * cached base and package repository (image), the L3 sites and their router (network), the hosts
 * booted by systemd-nspawn (hosts) and reached over SSH (ssh), the lab's shape read from a stack
 * settings file (topology), the provider's side of a managed PostgreSQL (managed), psql from this
 * machine (psql), and the records `down` undoes (state). The layers above (replay, checks, drills) import them from here.
 */
export * from "./hosts";
export * from "./hostKeys";
export * from "./image";
export * from "./images";
export * from "./repository";
export * from "./managed";
export * from "./providerCa";
export * from "./network";
export * from "./psql";
export * from "./requirements";
export * from "./run";
export * from "./settings";
export * from "./sources";
export * from "./ssh";
export * from "./state";
export * from "./topology";
