/**
 * A value built on first use, standing in for it meanwhile. Zod builds every schema eagerly and each one
 * costs (zod v4 puts its methods on every instance): the server's request and DAG schemas took ~60 ms and
 * several MiB at start-up, before anyone sent a request. `lazySchema(() => z.object(…))` keeps a module's
 * exported schema as it was (same name, same type, usable inside other schemas) and builds it the first
 * time anything touches it.
 *
 * @example
 * export const PoolBody = lazySchema(() => z.object({ name: z.string(), slots: z.number().int() }));
 * PoolBody.safeParse(body); // built here, once
 * z.array(built(PoolBody)); // inside another schema: the built one (see `built`)
 */
export function lazySchema<T extends object>(build: () => T): T {
  let value: T | undefined;
  const real = () => (value ??= build());
  const standIn = new Proxy({} as T, {
    get: (_, key) => Reflect.get(real(), key),
    has: (_, key) => Reflect.has(real(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    // `{ ...lazyFields }` and Object.keys see the built object's own properties. A descriptor is reported
    // configurable: the stand-in's own (empty) target must not contradict it (the Proxy invariants).
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(real(), key);
      return d && { ...d, configurable: true };
    },
  });
  builders.set(standIn, real);
  return standIn;
}

const builders = new WeakMap<object, () => object>();

/**
 * The schema behind a `lazySchema` stand-in (built now), or `schema` itself. A schema placed inside another
 * one must be the built one: zod keys its JSON Schema output (GET /openapi.json) by schema identity, and
 * the stand-in is another object than the schema its methods belong to.
 */
export function built<T>(schema: T): T {
  const real = typeof schema === "object" && schema !== null ? builders.get(schema) : undefined;
  return real ? (real() as T) : schema;
}
