/**
 * The checks behind `leoflow serve`'s configuration, in the shape of the zod calls they replace
 * (`v.number().int().min(1)`), without zod: building and running a zod object of ~100 fields cost
 * ~20 ms of every start (scripts/bench footprint), for a handful of comparisons. Each rule turns a raw
 * flag value into its typed value or into one message that says what the flag expects; config.ts adds the
 * flag's name.
 *
 * @example
 * const Cfg = v.object({ port: v.number().int().min(0).max(65535), url: v.string().url().optional() });
 * Cfg.parse({ port: 8080 }); // { ok: true, value: { port: 8080 } }
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = (message: string): Checked<never> => ({ ok: false, message });
const shown = (value: unknown): string => (typeof value === "string" ? `"${value}"` : String(value));

/** A check of one value: its typed value, or what is wrong with it. */
export class Rule<T> {
  constructor(readonly check: (value: unknown) => Checked<T>) {}

  /** Adds a condition on the checked value; `message` is the issue when it fails. */
  refine(holds: (value: T) => boolean, message: string): this {
    return this.and((value) => (holds(value) ? null : message));
  }

  /** The value mapped by `parse`; a thrown error's message is the issue (parsers that explain themselves). */
  transform<U>(parse: (value: T) => U): Rule<U> {
    return new Rule((raw) => {
      const r = this.check(raw);
      if (!r.ok) return r;
      try {
        return ok(parse(r.value));
      } catch (e) {
        return bad(e instanceof Error ? e.message : String(e));
      }
    });
  }

  /** Absent (undefined) is accepted as is. */
  optional(): Rule<T | undefined> {
    return new Rule<T | undefined>((raw) => (raw === undefined ? ok(undefined) : this.check(raw)));
  }

  /** This rule with one more check; `problem` returns the issue or null. Keeps the rule's class (its methods). */
  protected and(problem: (value: T) => string | null): this {
    const next = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(next, this, {
      check: (raw: unknown): Checked<T> => {
        const r = this.check(raw);
        if (!r.ok) return r;
        const p = problem(r.value);
        return p === null ? r : bad(p);
      },
    });
    return next;
  }
}

export class StringRule extends Rule<string> {
  min(n: number, message = n === 1 ? "must not be empty" : `expects at least ${n} characters`): this {
    return this.and((s) => (s.length >= n ? null : message));
  }
  max(n: number, message = `expects at most ${n} characters`): this {
    return this.and((s) => (s.length <= n ? null : message));
  }
  regex(pattern: RegExp, message: string): this {
    return this.and((s) => (pattern.test(s) ? null : message));
  }
  url(message = "expects a URL such as http://10.0.0.5:8080"): this {
    return this.and((s) => (URL.canParse(s) ? null : `${message}, got ${shown(s)}`));
  }
}

export class NumberRule extends Rule<number> {
  int(message = "expects a whole number"): this {
    return this.and((n) => (Number.isInteger(n) ? null : `${message}, got ${n}`));
  }
  min(n: number): this {
    return this.and((x) => (x >= n ? null : `must be at least ${n}, got ${x}`));
  }
  max(n: number): this {
    return this.and((x) => (x <= n ? null : `must be at most ${n}, got ${x}`));
  }
  positive(): this {
    return this.and((x) => (x > 0 ? null : `must be more than 0, got ${x}`));
  }
}

export const string = (): StringRule =>
  new StringRule((raw) => (typeof raw === "string" ? ok(raw) : bad(`expects text, got ${shown(raw)}`)));

export const number = (): NumberRule =>
  new NumberRule((raw) => (typeof raw === "number" && Number.isFinite(raw) ? ok(raw) : bad(`expects a number, got ${shown(raw)}`)));

export const boolean = (): Rule<boolean> =>
  new Rule((raw) => (typeof raw === "boolean" ? ok(raw) : bad(`expects true or false, got ${shown(raw)}`)));

/** One of `values`; the message lists them. */
export const oneOf = <const V extends readonly string[]>(values: V, message?: string): Rule<V[number]> =>
  new Rule((raw) =>
    values.includes(raw as string)
      ? ok(raw as V[number])
      : bad(`${message ?? `expects ${values.slice(0, -1).join(", ")} or ${values.at(-1)}`}, got ${shown(raw)}`),
  );

/** A value config.ts builds itself (not from user input), taken as it is. */
export const built = <T>(): Rule<T> => new Rule((raw) => ok(raw as T));

/** Any value, checked by `parse`: its result, or the message it throws. */
export const custom = <T>(parse: (raw: unknown) => T): Rule<T> => built<unknown>().transform(parse);

type Shape = Record<string, Rule<unknown>>;
type Out<R> = R extends Rule<infer T> ? T : never;
type Flat<T> = { [K in keyof T]: T[K] };
/** Fields whose rule accepts undefined are optional keys, as zod's `z.infer` makes them. */
export type Infer<S extends Shape> = Flat<
  { [K in keyof S as undefined extends Out<S[K]> ? never : K]: Out<S[K]> } & {
    [K in keyof S as undefined extends Out<S[K]> ? K : never]?: Out<S[K]>;
  }
>;

export type Issue = { path: string; message: string };

export class ObjectRule<S extends Shape> {
  constructor(readonly shape: S) {}

  /** Every field checked (unknown keys dropped): the typed object, or one issue per failing field. */
  parse(raw: Record<string, unknown>): { ok: true; value: Infer<S> } | { ok: false; issues: Issue[] } {
    const value: Record<string, unknown> = {};
    const issues: Issue[] = [];
    for (const [key, rule] of Object.entries(this.shape)) {
      const r = rule.check(raw[key]);
      if (r.ok) {
        if (r.value !== undefined) value[key] = r.value;
      } else issues.push({ path: key, message: r.message });
    }
    return issues.length ? { ok: false, issues } : { ok: true, value: value as Infer<S> };
  }
}

export const object = <S extends Shape>(shape: S): ObjectRule<S> => new ObjectRule(shape);
