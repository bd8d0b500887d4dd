import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { built, lazySchema } from "../../../src/domain";

describe("lazySchema", () => {
  test("builds on first use, once, and validates like the schema it stands for", () => {
    let builds = 0;
    const Name = lazySchema(() => (builds++, z.string().min(2, "too short")));
    expect(builds).toBe(0);
    expect(Name.safeParse("ab").success).toBe(true);
    expect(Name.safeParse("a").error?.issues[0]?.message).toBe("too short");
    expect(Name instanceof z.ZodString).toBe(true);
    expect(builds).toBe(1);
  });

  test("a stand-in for a plain object of fields spreads into another schema", () => {
    const fields = lazySchema(() => ({ limit: z.number().int(), offset: z.number().int() }));
    const Query = z.object({ ...fields, q: z.string() });
    expect(Object.keys(Query.shape)).toEqual(["limit", "offset", "q"]);
    expect(Query.safeParse({ limit: 1, offset: 0, q: "x" }).success).toBe(true);
  });

  test("built(): the schema behind a stand-in documents as JSON Schema inside another; other values pass through", () => {
    const When = lazySchema(() => z.string().transform((s) => new Date(s)));
    const Body = lazySchema(() => z.object({ at: built(When) }).strict());
    expect(z.toJSONSchema(Body, { io: "input" })).toMatchObject({ properties: { at: { type: "string" } }, required: ["at"] });
    const plain = z.number();
    expect(built(plain)).toBe(plain);
  });
});
