/** The --k8s-* flags: defaults, parsing, and refusals that name the flag. */
import { describe, expect, test } from "bun:test";
import { loadServeConfig } from "../../../../src/config";

const refused = (argv: string[]) => {
  try {
    loadServeConfig(argv, {});
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected the config to be refused");
};

describe("kubernetes flags", () => {
  test("defaults: safe, no node selector or tolerations, the namespace from the kubeconfig", () => {
    const cfg = loadServeConfig(["--executor=kubernetes"], {});
    expect(cfg).toMatchObject({
      namespace: "",
      k8s_user: { uid: 65534, gid: 65534 },
      k8s_automount_token: false,
      k8s_node_selector: {},
      k8s_tolerations: [],
      k8s_image_pull_policy: "if_not_present",
      k8s_staging_access_mode: "ReadWriteOnce",
    });
  });

  test("parsed values", () => {
    const cfg = loadServeConfig(
      [
        "--executor=kubernetes",
        "--namespace=batch",
        "--k8s-node-selector",
        "pool=batch, disk=ssd",
        "--k8s-tolerations",
        '[{"key":"batch","operator":"Exists","effect":"NoSchedule"}]',
        "--k8s-user",
        "1000",
      ],
      { LEOFLOW_K8S_AUTOMOUNT_TOKEN: "true" },
    );
    expect(cfg.namespace).toBe("batch");
    expect(cfg.k8s_node_selector).toEqual({ pool: "batch", disk: "ssd" });
    expect(cfg.k8s_tolerations).toEqual([{ key: "batch", operator: "Exists", effect: "NoSchedule" }]);
    expect(cfg.k8s_user).toEqual({ uid: 1000, gid: 1000 });
    expect(cfg.k8s_automount_token).toBe(true);
  });

  test.each([
    [["--k8s-tolerations", "{bad"], "--k8s-tolerations: is not JSON"],
    [["--k8s-tolerations", '[{"key":"k","operator":"Maybe"}]'], "--k8s-tolerations: [0].operator must be Exists or Equal"],
    [["--k8s-node-selector", "pool"], '--k8s-node-selector: "pool" is not key=value'],
    [["--k8s-user", "0:0"], "--k8s-user: uid 0 is root"],
    [["--k8s-default-memory", "lots"], "--k8s-default-memory: expects a memory quantity"],
    [["--namespace", "Not_A_Namespace"], "--namespace: expects a namespace name"],
    [["--k8s-staging-access-mode", "Everyone"], "--k8s-staging-access-mode"],
  ])("%j is refused naming the flag", (argv, message) => {
    expect(refused(["--executor=kubernetes", ...argv])).toContain(message);
  });
});
