/** Persistent state: the Store interface and its implementations. */
export * from "./store";
