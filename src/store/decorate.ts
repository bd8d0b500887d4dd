/**
 * A store with some of its methods replaced and every other one passed through: how the decorators over the
 * Store (the transition guard, secrets at rest, lifecycle events) wrap it without restating its methods.
 * A proxy, not a copy, so the wrapped object stays what it is (instanceof, fields such as PostgresStore.sql).
 *
 * @example const logged = overriding(store, { async getDag(id) { log(id); return store.getDag(id); } });
 */
export function overriding<S extends object>(store: S, overrides: Partial<S>): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof S];
      const v = Reflect.get(target, prop, receiver);
      // Store methods use `this` (e.g. SqliteStore's db): call them on the real store, not the proxy.
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
