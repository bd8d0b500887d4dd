import { describe, expect, test } from "bun:test";
import { ConflictError, IllegalTransitionError, LeoflowError, ValidationError, errorMessage, toError } from "../../../src/domain";

describe("error helpers", () => {
  test.each([
    [new Error("disk full"), "disk full"],
    ["a thrown string", "a thrown string"],
    [42, "42"],
    [undefined, "undefined"],
    [null, "null"],
    [{ code: "E1" }, '{"code":"E1"}'],
  ])("errorMessage(%p) is %p, and toError(it).message too", (thrown, message) => {
    expect(errorMessage(thrown)).toBe(message);
    expect(toError(thrown).message).toBe(message);
  });

  test("toError returns an Error as it is and keeps anything else as the cause", () => {
    const e = new ConflictError("taken");
    expect(toError(e)).toBe(e);
    expect(toError("boom").cause).toBe("boom");
  });

  test("every error class can carry the error that caused it", () => {
    const cause = new Error("socket reset");
    expect(new LeoflowError("reading the store failed", { cause }).cause).toBe(cause);
    expect(new ConflictError("run exists", { cause }).cause).toBe(cause);
    expect(new ValidationError("bad", [], { cause }).cause).toBe(cause);
    expect(new IllegalTransitionError("success", "running", "task instance", { cause }).cause).toBe(cause);
    expect(new ConflictError("run exists").name).toBe("ConflictError");
  });
});
