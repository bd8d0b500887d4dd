/**
 * The deploy files (deploy/kubernetes) held to Kubernetes: every YAML document validates against the
 * kind's schema (kubernetes-models) and the API server's own rules (the double's validation), kubectl
 * applies the folder to the API-server double, and the Role grants exactly what the executor calls:
 * a client limited to it by the double's RBAC can do the executor's work and nothing beyond.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { kubectl, kubectlAvailable } from "../support/kube-api-double/kubectl";
import { startKubeApiDouble, type KubeApiDouble, type PolicyRule } from "../support/kube-api-double";
import { findKind } from "../support/kube-api-double/resources";
import { validateObject } from "../support/kube-api-double/validation";

const DIR = join(import.meta.dir, "../../deploy/kubernetes");
const NS = "leoflow";

const documents = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
  .flatMap((file) => parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((d, i) => ({ file, index: i, object: d.toJS() as any })));
const byKind = (kind: string) => documents.find((d) => d.object.kind === kind)!.object;

describe("deploy/kubernetes", () => {
  test("holds a Deployment, Service, ServiceAccount, Role, RoleBinding and ConfigMap", () => {
    expect(documents.map((d) => d.object.kind).sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "Role",
      "RoleBinding",
      "Service",
      "ServiceAccount",
    ]);
  });

  test.each(documents.map((d) => [`${d.file}#${d.index} ${d.object.kind}`, d.object]))(
    "%s validates against Kubernetes' schema and rules",
    (_, object) => {
      const type = findKind(object.apiVersion, object.kind);
      expect(type).toBeDefined();
      expect(validateObject(type!, object)).toEqual([]);
    },
  );

  test("the Deployment runs Pro with the Kubernetes executor as non-root, probes health and reads its secrets from a Secret", () => {
    const spec = byKind("Deployment").spec;
    const c = spec.template.spec.containers[0];
    expect(spec.replicas).toBeGreaterThan(1);
    expect(c.args).toEqual(expect.arrayContaining(["--mode=pro", "--executor=kubernetes"]));
    expect(c.readinessProbe.httpGet.path).toBe("/api/v2/monitor/health");
    expect(c.livenessProbe.httpGet.path).toBe("/api/v2/monitor/health");
    expect(spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(spec.template.spec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    const fromSecret = c.env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name);
    expect(fromSecret.sort()).toEqual(["LEOFLOW_DB", "LEOFLOW_JWT_SECRET", "LEOFLOW_SECRETS_KEY"]);
    expect(c.envFrom).toEqual([{ configMapRef: { name: byKind("ConfigMap").metadata.name } }]);
    expect(spec.template.spec.serviceAccountName).toBe(byKind("ServiceAccount").metadata.name);
    // The Service selects these pods, on the port they listen on.
    expect(byKind("Service").spec.selector).toEqual(spec.template.metadata.labels);
  });

  test("the Dockerfile runs the binary as a non-root user where the executor's init container copies it from", () => {
    const dockerfile = readFileSync(join(DIR, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^COPY leoflow \/usr\/local\/bin\/leoflow$/m);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/leoflow"\]$/m);
  });
});

describe("deploy/kubernetes against the API-server double", () => {
  let kube: KubeApiDouble;
  let config: string;
  beforeAll(async () => {
    kube = await startKubeApiDouble({ namespaces: [NS], kubelet: false });
    config = kube.writeKubeconfig(undefined, NS);
  });
  afterAll(() => kube.stop());

  test.skipIf(!kubectlAvailable())("kubectl applies the folder (client dry run, then for real) and reads the objects back", async () => {
    const files = [...new Set(documents.map((d) => join(DIR, d.file)))];
    const dry = await kubectl(config, "apply", "--validate=false", "--dry-run=client", ...files.flatMap((f) => ["-f", f]));
    expect(dry.code).toBe(0);
    expect(dry.out).toContain("deployment.apps/leoflow created (dry run)");
    const real = await kubectl(config, "apply", "--validate=false", "-k", DIR);
    expect(real.out).toContain("deployment.apps/leoflow created");
    expect(real.code).toBe(0);
    const names = await kubectl(config, "get", "deployments,services,serviceaccounts,roles,rolebindings,configmaps", "-o", "name");
    expect(names.out.split("\n").filter(Boolean).sort()).toEqual([
      "configmap/leoflow-config",
      "deployment.apps/leoflow",
      "role.rbac.authorization.k8s.io/leoflow",
      "rolebinding.rbac.authorization.k8s.io/leoflow",
      "service/leoflow",
      "serviceaccount/default",
      "serviceaccount/leoflow",
    ]);
  });

  test("the Role allows the executor's calls on pods, pods/log, secrets and PVCs, and nothing else", async () => {
    const rules = byKind("Role").rules as PolicyRule[];
    const limited = await startKubeApiDouble({ namespaces: [NS], kubelet: false, rules });
    try {
      const kc = new KubeConfig();
      kc.loadFromString(limited.kubeconfig(NS));
      const api = kc.makeApiClient(CoreV1Api);
      const ns = NS;
      await api.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "tok" }, stringData: { t: "x" } } });
      await api.replaceNamespacedSecret({ namespace: ns, name: "tok", body: { metadata: { name: "tok" }, stringData: { t: "y" } } });
      await api.listNamespacedSecret({ namespace: ns, labelSelector: "a=b" });
      await api.createNamespacedPod({
        namespace: ns,
        body: { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i:1" }] } },
      });
      await api.readNamespacedPod({ namespace: ns, name: "p" });
      await api.listNamespacedPod({ namespace: ns });
      await api.createNamespacedPersistentVolumeClaim({
        namespace: ns,
        body: { metadata: { name: "s" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } },
      });
      await api.listNamespacedPersistentVolumeClaim({ namespace: ns });
      await api.deleteNamespacedPersistentVolumeClaim({ namespace: ns, name: "s" });
      await api.deleteNamespacedPod({ namespace: ns, name: "p" });
      await api.deleteNamespacedSecret({ namespace: ns, name: "tok" });
      const refused = await api.listNamespacedConfigMap({ namespace: ns }).then(
        () => 0,
        (e) => (e as { code: number }).code,
      );
      expect(refused).toBe(403);
      const patch = await api.patchNamespacedPod({ namespace: ns, name: "p", body: [] }).then(
        () => 0,
        (e) => (e as { code: number }).code,
      );
      expect(patch).toBe(403);
    } finally {
      await limited.stop();
    }
  });
});
