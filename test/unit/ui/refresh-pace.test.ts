/** How soon the DAG page re-reads a run after an event: 700 ms for small runs, a millisecond per task instance above, 30 s at most. */
import { expect, test } from "bun:test";
import { RUN_REFRESH_MAX_MS, RUN_REFRESH_MIN_MS, runRefreshDelayMs } from "../../../src/ui/app/refresh-pace";

test.each([
  [0, RUN_REFRESH_MIN_MS],
  [10, RUN_REFRESH_MIN_MS],
  [700, 700],
  [1_000, 1_000],
  [10_000, 10_000],
  [30_000, RUN_REFRESH_MAX_MS],
  [250_000, RUN_REFRESH_MAX_MS],
])("a run of %p task instances is re-read after %p ms", (tis, ms) => expect(runRefreshDelayMs(tis)).toBe(ms));
