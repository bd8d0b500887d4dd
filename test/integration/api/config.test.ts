import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  const CONFIG = {
    mode: "lite",
    db: "postgres://leo:pg-pass@db:5432/leoflow",
    dags_folder: "./dags",
    port: 8080,
    auth: "jwt",
    jwt_secret: "super-secret-signing-key",
    secrets_key: "0123456789abcdef",
    admin_password: undefined,
    heartbeat_interval: 5,
    token_ttl: 3600,
    docker_host: "unix:///var/run/docker.sock",
    k8s_node_selector: { pool: "batch" },
  };

  describe("GET /api/v2/config", () => {
    test("the effective configuration in Airflow's Config shape, secrets hidden", async () => {
      const h = await makeHarness({ api: { config: CONFIG } });
      const r = await h.json("GET", "/api/v2/config");
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        sections: [
          {
            name: "core",
            options: [
              { key: "dags_folder", value: "./dags" },
              { key: "db", value: "< hidden >" },
              { key: "mode", value: "lite" },
              { key: "secrets_key", value: "< hidden >" },
            ],
          },
          {
            name: "api",
            options: [
              { key: "admin_password", value: "" },
              { key: "auth", value: "jwt" },
              { key: "jwt_secret", value: "< hidden >" },
              { key: "port", value: "8080" },
              { key: "token_ttl", value: "3600" },
            ],
          },
          { name: "scheduler", options: [{ key: "heartbeat_interval", value: "5" }] },
          { name: "docker", options: [{ key: "docker_host", value: "unix:///var/run/docker.sock" }] },
          { name: "kubernetes", options: [{ key: "k8s_node_selector", value: '{"pool":"batch"}' }] },
        ],
      });
      expect(JSON.stringify(r.body)).not.toContain("pg-pass");
    });

    test("?section= narrows, an unknown section is a 404; text/plain answers ini text", async () => {
      const h = await makeHarness({ api: { config: CONFIG } });
      expect((await h.json("GET", "/api/v2/config?section=scheduler")).body).toEqual({
        sections: [{ name: "scheduler", options: [{ key: "heartbeat_interval", value: "5" }] }],
      });
      const missing = await h.json("GET", "/api/v2/config?section=nope");
      expect(missing.status).toBe(404);
      expect(missing.body.detail).toContain("Section nope not found");
      const text = await h.call("GET", "/api/v2/config?section=api", { headers: { accept: "text/plain" } });
      expect(text.headers.get("content-type")).toStartWith("text/plain");
      expect(await text.text()).toBe("[api]\nadmin_password = \nauth = jwt\njwt_secret = < hidden >\nport = 8080\ntoken_ttl = 3600\n");
      expect((await h.call("GET", "/api/v2/config", { headers: { accept: "application/xml" } })).status).toBe(406);
    });

    test("one option; an unknown one is a 404; a viewer may not read the configuration", async () => {
      const h = await makeHarness({ api: { config: CONFIG } });
      expect((await h.json("GET", "/api/v2/config/section/api/option/port")).body).toEqual({
        sections: [{ name: "api", options: [{ key: "port", value: "8080" }] }],
      });
      expect((await h.json("GET", "/api/v2/config/section/api/option/jwt_secret")).body.sections[0].options[0].value).toBe("< hidden >");
      const missing = await h.json("GET", "/api/v2/config/section/api/option/nope");
      expect(missing).toEqual({ status: 404, body: { detail: expect.stringContaining("Option [api/nope] not found") } });
      expect((await h.json("GET", "/api/v2/config", { token: await h.token("viewer") })).status).toBe(403);
    });
  });
});
