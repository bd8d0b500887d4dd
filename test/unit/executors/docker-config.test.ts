/** `leoflow serve --executor=docker` flags: defaults, DOCKER_HOST, and refusals that name the flag. */
import { describe, expect, test } from "bun:test";
import { loadServeConfig } from "../../../src/config";

describe("docker flags", () => {
  test("defaults: the standard socket, host network, limits always set, non-root user", () => {
    const cfg = loadServeConfig(["--executor=docker"], {});
    expect(cfg).toMatchObject({
      executor: "docker",
      docker_host: "unix:///var/run/docker.sock",
      docker_network: "host",
      docker_default_cpu: "1",
      docker_default_memory: "512Mi",
      docker_pull_policy: "if_not_present",
      docker_user: "65534:65534",
      docker_allowed_images: "",
    });
  });

  test.each([
    ["DOCKER_HOST is used when no flag is given", [], { DOCKER_HOST: "unix:///run/podman.sock" }, "unix:///run/podman.sock"],
    [
      "LEOFLOW_DOCKER_HOST wins over DOCKER_HOST",
      [],
      { DOCKER_HOST: "unix:///a.sock", LEOFLOW_DOCKER_HOST: "unix:///b.sock" },
      "unix:///b.sock",
    ],
    ["the flag wins over both", ["--docker-host", "tcp://10.0.0.2:2375"], { DOCKER_HOST: "unix:///a.sock" }, "tcp://10.0.0.2:2375"],
  ] as [string, string[], Record<string, string>, string][])("%s", (_n, argv, env, want) =>
    expect(loadServeConfig(["--executor=docker", ...argv], env).docker_host).toBe(want),
  );

  test.each([
    [["--docker-default-memory", "lots"], "--docker-default-memory"],
    [["--docker-default-cpu", "fast"], "--docker-default-cpu"],
    [["--docker-pull-policy", "sometimes"], "--docker-pull-policy"],
    [["--docker-host", "/var/run/docker.sock"], "--docker-host"],
    [["--docker-max-memory", "big"], "--docker-max-memory"],
  ])("%p is refused naming %s", (argv, flag) => expect(() => loadServeConfig(["--executor=docker", ...argv], {})).toThrow(flag));
});
