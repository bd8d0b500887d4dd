// Types of the generated src/gen/json-schema-2020-12-meta.js (scripts/gen-json-schema-meta.ts).
import type { ErrorObject } from "ajv";

declare const validate: ((schema: unknown) => boolean) & { errors?: ErrorObject[] | null };
export default validate;
