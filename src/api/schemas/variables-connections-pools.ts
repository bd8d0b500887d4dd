/** VariableResponse, ConnectionResponse, PoolResponse and their CRUD routes. */
import { z } from "zod";
import * as connectionRoutes from "../connections";
import { requestSchema, describeRoute, type HttpMethod, type RouteDoc } from "../openapi-registry";
import * as poolRoutes from "../pools";
import * as variableRoutes from "../variables";
import { ErrorResponse, collection, int, nstr } from "./common";

const ConnectionBody = requestSchema(connectionRoutes, "ConnectionBody");
const ConnectionListQuery = requestSchema(connectionRoutes, "ListQuery");
const ConnectionMaskQuery = requestSchema(connectionRoutes, "MaskQuery");
const PoolBody = requestSchema(poolRoutes, "PoolBody");
const PoolPatchBody = requestSchema(poolRoutes, "PoolPatchBody");
const PoolListQuery = requestSchema(poolRoutes, "ListQuery");
const PoolMaskQuery = requestSchema(poolRoutes, "MaskQuery");
const VariableBody = requestSchema(variableRoutes, "VariableBody");
const VariableListQuery = requestSchema(variableRoutes, "ListQuery");
const VariableMaskQuery = requestSchema(variableRoutes, "MaskQuery");

export const VariableResponse = z.looseObject({
  key: z.string(),
  value: z.string(),
  description: nstr.optional(),
  is_encrypted: z.boolean(),
  team_name: nstr.optional(),
});

export const ConnectionResponse = z.looseObject({
  connection_id: z.string(),
  conn_type: z.string(),
  description: nstr.optional(),
  host: nstr.optional(),
  login: nstr.optional(),
  schema: nstr.optional(),
  port: int.nullable().optional(),
  password: nstr.optional(),
  extra: nstr.optional(),
  team_name: nstr.optional(),
});

export const PoolResponse = z.looseObject({
  name: z.string(),
  slots: int,
  description: nstr.optional(),
  include_deferred: z.boolean(),
  occupied_slots: int,
  running_slots: int,
  queued_slots: int,
  scheduled_slots: int,
  open_slots: int,
  deferred_slots: int,
  team_name: nstr.optional(),
});

/** list, get, create, patch, delete under one collection path. */
function crud(o: {
  path: string;
  id: string;
  tag: string;
  item: z.ZodType;
  list: z.ZodType;
  listQuery?: z.ZodType;
  body?: z.ZodType;
  patchBody?: z.ZodType;
  mask?: z.ZodType;
}) {
  const one = `${o.path}/:${o.id}`;
  const params = { [o.id]: z.string() };
  const doc = (method: HttpMethod, path: string, summary: string, rest: Pick<RouteDoc, "params" | "query" | "body" | "responses">) =>
    describeRoute({ method, path, summary, tag: o.tag, ...rest });
  doc("GET", o.path, `List ${o.tag.toLowerCase()}s`, { query: o.listQuery, responses: { 200: o.list } });
  doc("GET", one, `Get a ${o.tag.toLowerCase()}`, { params, responses: { 200: o.item, 404: ErrorResponse } });
  doc("POST", o.path, `Create a ${o.tag.toLowerCase()}`, { body: o.body, responses: { 201: o.item, 409: ErrorResponse } });
  doc("PATCH", one, `Update a ${o.tag.toLowerCase()}`, {
    params,
    query: o.mask,
    body: o.patchBody,
    responses: { 200: o.item, 404: ErrorResponse },
  });
  doc("DELETE", one, `Delete a ${o.tag.toLowerCase()}`, { params, responses: { 204: null, 404: ErrorResponse, 409: ErrorResponse } });
}

crud({
  path: "/api/v2/variables",
  id: "variable_key",
  tag: "Variable",
  item: VariableResponse,
  list: collection("variables", VariableResponse),
  listQuery: VariableListQuery,
  body: VariableBody,
  patchBody: VariableBody,
  mask: VariableMaskQuery,
});
crud({
  path: "/api/v2/connections",
  id: "connection_id",
  tag: "Connection",
  item: ConnectionResponse,
  list: collection("connections", ConnectionResponse),
  listQuery: ConnectionListQuery,
  body: ConnectionBody,
  patchBody: ConnectionBody,
  mask: ConnectionMaskQuery,
});
crud({
  path: "/api/v2/pools",
  id: "pool_name",
  tag: "Pool",
  item: PoolResponse,
  list: collection("pools", PoolResponse),
  listQuery: PoolListQuery,
  body: PoolBody,
  patchBody: PoolPatchBody,
  mask: PoolMaskQuery,
});
