/**
 * What the real API server checks before it stores an object, in its words: the JSON schema of the kind
 * (kubernetes-models' generated validators, from Kubernetes' OpenAPI) and the hand-written rules of
 * Kubernetes' validation package that a schema cannot say (DNS names, label syntax, unique container
 * names, mounts naming a volume, requests within limits...). Pure: it returns the causes, the caller
 * answers 422 Invalid with them.
 */
import type { ResourceType } from "./resources";
import { cause, type StatusCause } from "./status";
import type { KubeObject } from "./object-store";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const LABEL_MSG = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
const SUBDOMAIN_MSG = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
const LABEL_VALUE_MSG = `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`;

/** Kinds whose names must be DNS-1123 labels (63 characters); the rest take subdomains (253). */
const LABEL_NAMED = new Set(["Service", "Namespace"]);

export function validateObject(type: ResourceType, obj: KubeObject): StatusCause[] {
  const causes = [...schemaCauses(type, obj), ...metadataCauses(type, obj)];
  if (type.kind === "Pod") causes.push(...podCauses(obj.spec ?? {}));
  // A Deployment's pod template is checked as a pod would be (the real server does so on create).
  if (type.kind === "Deployment" && obj.spec?.template) causes.push(...podCauses(obj.spec.template.spec ?? {}, "spec.template.spec"));
  if (type.kind === "Secret" || type.kind === "ConfigMap") causes.push(...dataKeyCauses(obj));
  if (type.kind === "PersistentVolumeClaim") causes.push(...pvcCauses(obj.spec ?? {}));
  return causes;
}

/** ajv's errors from the kind's schema, with the field written the server's way: spec.containers[0].name. */
function schemaCauses(type: ResourceType, obj: KubeObject): StatusCause[] {
  try {
    new type.model(obj).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[] })
      .errors;
    if (!errors) return [{ reason: "FieldValueInvalid", message: String((e as Error).message), field: "<root>" }];
    return errors.map((err) => {
      const path = fieldPath(err.instancePath);
      if (err.keyword === "required") return cause.required(joinField(path, String(err.params.missingProperty)));
      if (err.keyword === "enum")
        return cause.notSupported(path, valueAt(obj, err.instancePath), (err.params.allowedValues as string[]) ?? []);
      return cause.invalid(path, valueAt(obj, err.instancePath), err.message ?? err.keyword);
    });
  }
}

const fieldPath = (pointer: string) =>
  pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : joinField(acc, p)), "");
const joinField = (base: string, f: string) => (base ? `${base}.${f}` : f);
const valueAt = (obj: unknown, pointer: string) =>
  pointer
    .split("/")
    .slice(1)
    .reduce<any>((o, p) => (o == null ? o : o[p.replace(/~1/g, "/").replace(/~0/g, "~")]), obj);

function metadataCauses(type: ResourceType, obj: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const md = obj.metadata ?? ({} as KubeObject["metadata"]);
  if (!md.name) out.push(cause.required("metadata.name", "name or generateName is required"));
  else if (
    LABEL_NAMED.has(type.kind)
      ? !DNS1123_LABEL.test(md.name) || md.name.length > 63
      : !DNS1123_SUBDOMAIN.test(md.name) || md.name.length > 253
  )
    out.push(cause.invalid("metadata.name", md.name, LABEL_NAMED.has(type.kind) ? LABEL_MSG : SUBDOMAIN_MSG));
  for (const [k, v] of Object.entries(md.labels ?? {})) {
    out.push(...qualifiedNameCauses("metadata.labels", k));
    if (typeof v !== "string") continue;
    if (v.length > 63) out.push(cause.invalid("metadata.labels", v, "must be no more than 63 characters"));
    else if (!LABEL_VALUE.test(v)) out.push(cause.invalid("metadata.labels", v, LABEL_VALUE_MSG));
  }
  for (const k of Object.keys(md.annotations ?? {})) out.push(...qualifiedNameCauses("metadata.annotations", k));
  return out;
}

/** A label or annotation key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
function qualifiedNameCauses(field: string, key: string): StatusCause[] {
  const parts = key.split("/");
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  const prefix = parts.length === 2 ? parts[0]! : "";
  const nameOk = parts.length <= 2 && name.length > 0 && name.length <= 63 && /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(name);
  const prefixOk = parts.length < 2 || (prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix));
  if (nameOk && prefixOk) return [];
  return [
    cause.invalid(
      field,
      key,
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName'), and at most 63 characters",
    ),
  ];
}

const VOLUME_SOURCES = [
  "emptyDir",
  "secret",
  "configMap",
  "persistentVolumeClaim",
  "hostPath",
  "projected",
  "downwardAPI",
  "ephemeral",
  "csi",
  "nfs",
];

function podCauses(spec: any, at = "spec"): StatusCause[] {
  const out: StatusCause[] = [];
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v: any, i: number) => {
    const f = `${at}.volumes[${i}]`;
    if (!v.name) out.push(cause.required(`${f}.name`));
    else if (!DNS1123_LABEL.test(v.name) || v.name.length > 63) out.push(cause.invalid(`${f}.name`, v.name, LABEL_MSG));
    else if (volumes.has(v.name)) out.push(cause.duplicate(`${f}.name`, v.name));
    volumes.add(v.name);
    const sources = VOLUME_SOURCES.filter((s) => v[s] !== undefined);
    if (sources.length === 0) out.push(cause.required(f, "must specify a volume type"));
    if (sources.length > 1) out.push(cause.forbidden(`${f}.${sources[1]}`, "may not specify more than 1 volume type"));
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) out.push(cause.required(`${f}.persistentVolumeClaim.claimName`));
    if (v.secret && !v.secret.secretName) out.push(cause.required(`${f}.secret.secretName`));
  });
  if (!spec.containers?.length) out.push(cause.required(`${at}.containers`));
  const names = new Set<string>();
  const each = (list: any[] | undefined, field: string) =>
    (list ?? []).forEach((c: any, i: number) => {
      const f = `${field}[${i}]`;
      if (!c.name) out.push(cause.required(`${f}.name`));
      else if (!DNS1123_LABEL.test(c.name) || c.name.length > 63) out.push(cause.invalid(`${f}.name`, c.name, LABEL_MSG));
      else if (names.has(c.name)) out.push(cause.duplicate(`${f}.name`, c.name));
      names.add(c.name);
      if (!c.image) out.push(cause.required(`${f}.image`));
      out.push(...containerCauses(c, f, volumes));
    });
  each(spec.initContainers, `${at}.initContainers`);
  each(spec.containers, `${at}.containers`);
  if (spec.restartPolicy !== undefined && !["Always", "OnFailure", "Never"].includes(spec.restartPolicy))
    out.push(cause.notSupported(`${at}.restartPolicy`, spec.restartPolicy, ["Always", "OnFailure", "Never"]));
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds >= 1))
    out.push(cause.invalid(`${at}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, "must be between 1 and 2147483647, inclusive"));
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0)
    out.push(
      cause.invalid(`${at}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, "must be greater than or equal to 0"),
    );
  return out;
}

function containerCauses(c: any, f: string, volumes: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  if (c.imagePullPolicy !== undefined && !["Always", "IfNotPresent", "Never"].includes(c.imagePullPolicy))
    out.push(cause.notSupported(`${f}.imagePullPolicy`, c.imagePullPolicy, ["Always", "IfNotPresent", "Never"]));
  (c.env ?? []).forEach((e: any, i: number) => {
    if (!e.name) out.push(cause.required(`${f}.env[${i}].name`));
    else if (!ENV_NAME.test(e.name))
      out.push(
        cause.invalid(
          `${f}.env[${i}].name`,
          e.name,
          "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
        ),
      );
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    if (e.value !== undefined && e.valueFrom)
      out.push(cause.invalid(`${f}.env[${i}].valueFrom`, "", "may not be specified when `value` is not empty"));
    if (ref && !ref.key)
      out.push(cause.required(`${f}.env[${i}].valueFrom.${e.valueFrom.secretKeyRef ? "secretKeyRef" : "configMapKeyRef"}.key`));
  });
  const paths = new Set<string>();
  (c.volumeMounts ?? []).forEach((m: any, i: number) => {
    if (!volumes.has(m.name)) out.push(cause.notFound(`${f}.volumeMounts[${i}].name`, m.name));
    if (!m.mountPath) out.push(cause.required(`${f}.volumeMounts[${i}].mountPath`));
    else if (paths.has(m.mountPath)) out.push(cause.invalid(`${f}.volumeMounts[${i}].mountPath`, m.mountPath, "must be unique"));
    paths.add(m.mountPath);
  });
  for (const res of ["cpu", "memory"]) {
    const req = c.resources?.requests?.[res];
    const lim = c.resources?.limits?.[res];
    for (const [where, q] of [
      ["requests", req],
      ["limits", lim],
    ] as const)
      if (q !== undefined && quantityValue(q) === null)
        out.push(
          cause.invalid(
            `${f}.resources.${where}.${res}`,
            q,
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
          ),
        );
    const r = req !== undefined ? quantityValue(req) : null;
    const l = lim !== undefined ? quantityValue(lim) : null;
    if (r !== null && l !== null && r > l)
      out.push(cause.invalid(`${f}.resources.requests`, String(req), `must be less than or equal to ${res} limit of ${lim}`));
  }
  return out;
}

function dataKeyCauses(obj: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  for (const field of ["data", "stringData", "binaryData"])
    for (const k of Object.keys(obj[field] ?? {}))
      if (!CONFIG_KEY.test(k) || k.length > 253)
        out.push(
          cause.invalid(
            `${field}[${k}]`,
            k,
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
          ),
        );
  return out;
}

function pvcCauses(spec: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (!spec.accessModes?.length) out.push(cause.required("spec.accessModes", "at least 1 access mode is required"));
  const storage = spec.resources?.requests?.storage;
  if (storage === undefined) out.push(cause.required("spec.resources[storage]"));
  else if (!(quantityValue(storage)! > 0)) out.push(cause.invalid("spec.resources[storage]", storage, "must be greater than zero"));
  return out;
}

const SUFFIX: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** A Kubernetes quantity ("512Mi", "250m", "1e3", 2) as a number, or null when it is not one. */
export function quantityValue(q: string | number): number | null {
  if (typeof q === "number") return Number.isFinite(q) ? q : null;
  const m = /^([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|m|k|M|G|T|P|[eE][-+]?[0-9]+)?$/.exec(q.trim());
  if (!m || Number.isNaN(Number(m[1]))) return null;
  const unit = m[2] ?? "";
  if (/^[eE]/.test(unit)) return Number(m[1] + unit);
  return Number(m[1]) * SUFFIX[unit]!;
}
