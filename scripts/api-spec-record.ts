/**
 * `bun test --preload ./scripts/api-spec-record.ts test/integration/api` with LEOFLOW_API_RECORD=<file>: appends
 * every response the API test harness checks to <file> as a JSON line, for scripts/api-spec-check.ts.
 */
import { appendFileSync } from "node:fs";
import { responseLog } from "../test/integration/api/response-check";

const file = process.env.LEOFLOW_API_RECORD;
if (!file) throw new Error("api-spec-record: set LEOFLOW_API_RECORD to the file the responses go to");
responseLog.record = (r) => appendFileSync(file, `${JSON.stringify(r)}\n`);
