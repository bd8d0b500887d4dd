import { describe, expect, test } from "bun:test";
import {
  TemplateError,
  candidateKeys,
  loadTemplateValues,
  renderJson,
  renderTaskFields,
  renderString,
  templateNeeds,
  taskTemplateTexts,
  templateParams,
  type TemplateContext,
} from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

const ctx: TemplateContext = {
  dag_id: "etl",
  run_id: "manual__1",
  task_id: "notify",
  try_number: 2,
  logical_date: new Date("2026-03-01T06:30:00Z"),
  data_interval_start: new Date("2026-02-28T06:30:00Z"),
  data_interval_end: new Date("2026-03-01T06:30:00Z"),
  params: { limit: 10, region: "eu" },
  conf: { user: { name: "ada" }, ids: [7, 8], grid: [["a", "b"], ["c"]] },
  xcom: { extract: { rows: 42, tags: ["a", "b"] }, "v1.count": 5, text: "hello" },
  xcom_keys: { extract: { path: "/tmp/x.csv" } },
  var: { api_url: "http://api", cfg: '{"retries": 3, "hosts": ["a", "b"]}', "team.channel": "#ops" },
  conn: {
    warehouse: {
      conn_id: "warehouse",
      conn_type: "postgres",
      host: "db.local",
      port: 5432,
      login: "etl",
      password: "pw-s3cret",
      schema: "sales",
      extra: '{"sslmode": "require"}',
      uri: "postgres://etl:pw-s3cret@db.local:5432/sales?sslmode=require",
    },
  },
};

describe("renderString", () => {
  const cases: [string, string][] = [
    ["{{ dag_id }}/{{ run_id }}/{{task_id}}/{{ try_number }}", "etl/manual__1/notify/2"],
    ["{{ logical_date }}", "2026-03-01T06:30:00.000Z"],
    ["{{ ds }}", "2026-03-01"],
    ["{{ ts }}", "2026-03-01T06:30:00+00:00"],
    ["limit={{ params.limit }}&r={{ params.region }}", "limit=10&r=eu"],
    ["{{ conf.user.name }} {{ conf.ids.1 }} {{ var.json.cfg.hosts.1 }}", "ada 8 b"],
    ["{{ conf.grid.1.0 }}", "c"],
    ["{{ conf.user }}", '{"name":"ada"}'],
    ["rows={{ xcom.extract.rows }} tag={{ xcom.extract.tags.0 }}", "rows=42 tag=a"],
    ["{{ xcom.v1.count }}", "5"],
    ["{{ xcom.text }}", "hello"],
    ["{{ var.api_url }}/x", "http://api/x"],
    ["{{ var.cfg.retries }}", "3"],
    ["{{ var.team.channel }}", "#ops"],
    ["no templates here", "no templates here"],
    // Airflow's forms
    ["{{ ds_nodash }} {{ ts_nodash }}", "20260301 20260301T063000"],
    ["{{ data_interval_start }}..{{ data_interval_end }}", "2026-02-28T06:30:00.000Z..2026-03-01T06:30:00.000Z"],
    ["{{ dag.dag_id }}.{{ task.task_id }} {{ ti.try_number }} {{ dag_run.run_id }}", "etl.notify 2 manual__1"],
    ["{{ dag_run.conf.user.name }} {{ dag_run.logical_date }}", "ada 2026-03-01T06:30:00.000Z"],
    ["{{ var.value.api_url }} {{ var.value.team.channel }}", "http://api #ops"],
    ["{{ var.json.cfg.retries }} {{ var.json.cfg.hosts.1 }} {{ var.json.cfg.hosts }}", '3 b ["a","b"]'],
    [
      "{{ conn.warehouse.host }}:{{ conn.warehouse.port }} {{ conn.warehouse.login }}/{{ conn.warehouse.password }}",
      "db.local:5432 etl/pw-s3cret",
    ],
    [
      "{{ conn.warehouse.schema }} {{ conn.warehouse.extra_dejson.sslmode }} {{ conn.warehouse }}",
      "sales require postgres://etl:pw-s3cret@db.local:5432/sales?sslmode=require",
    ],
    ["{{ ti.xcom_pull(task_ids='extract') }}", '{"rows":42,"tags":["a","b"]}'],
    ['{{ ti.xcom_pull(task_ids="text") }} {{ ti.xcom_pull("text") }}', "hello hello"],
    ["{{ ti.xcom_pull(task_ids='extract', key='path') }}", "/tmp/x.csv"],
    ["{{ macros.ds_add(ds, -1) }} {{ macros.ds_add(ds, 31) }}", "2026-02-28 2026-04-01"],
    // filters, literals, escapes
    ["{{ params.region | upper }} {{ 'AbC' | lower }} {{ ' x ' | trim }}", "EU abc x"],
    ["{{ conf.user | tojson }} {{ ds | replace('-', '/') }}", '{"name":"ada"} 2026/03/01'],
    ["{{ var.value.nope | default('none') }} {{ params.limit | default(1) }}", "none 10"],
    ["echo {{ '{{' }} not a template {{ '}}' }}", "echo {{ not a template }}"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's ${HOME} is what this case is about
    ["awk '{print $1}' ${HOME} {x}", "awk '{print $1}' ${HOME} {x}"],
    ["{{ 'a }} b' }}", "a }} b"],
  ];
  for (const [input, want] of cases) test(input, () => expect(renderString(input, ctx, "http.url")).toBe(want));
});

describe("unknown references fail naming the template, where, and what exists", () => {
  const cases: [string, string][] = [
    ["{{ nope }}", 'template {{ nope }} in http.url: unknown name "nope"; use ds, ds_nodash'],
    ["{{ params.missing }}", 'template {{ params.missing }} in http.url: no param "missing" (known: limit, region)'],
    ["{{ conf.user.age }}", 'template {{ conf.user.age }} in http.url: conf.user has no field "age" (fields: name)'],
    ["{{ xcom.load }}", 'template {{ xcom.load }} in http.url: task "load" has no return_value XCom in this run'],
    ["{{ xcom.extract.rowz }}", 'xcom.extract has no field "rowz" (fields: rows, tags)'],
    ["{{ xcom.extract.tags.5 }}", 'xcom.extract.tags has no field "5" (it is a list of 2)'],
    ["{{ var.missing }}", "variable \"missing\" does not exist in this task's team; create it with 'leoflow variables set KEY VALUE'"],
    ["{{ var.value.missing }}", 'variable "missing" does not exist'],
    ["{{ var.json.api_url }}", 'variable "api_url" is not JSON, so var.json cannot read it'],
    ["{{ conn.nowhere.password }}", 'connection "nowhere" does not exist in this task\'s team'],
    ["{{ conn.warehouse.pasword }}", 'connection "warehouse" has no field "pasword" (fields: uri, conn_type'],
    ["{{ ti.xcom_pull(task_ids='extract', key='nope') }}", 'task "extract" has no XCom "nope" in this run'],
    ["{{ ti.xcom_pull(task_ids=['a', 'b']) }}", 'unexpected "["'],
    ["{{ ti.xcom_pull() }}", "write ti.xcom_pull(task_ids='<task_id>')"],
    ["{{ macros.ds_add(ds, 'x') }}", "write macros.ds_add(ds, <whole number of days>)"],
    ["{{ macros.ds_format(ds, '%Y') }}", 'unknown function "macros.ds_format"'],
    ["{{ ds | shout }}", 'unknown filter "shout"; filters: upper, lower'],
    ["{{ dag.owner }}", 'dag has no field "owner" (fields: dag_id)'],
    ["{{ ds + 1 }}", 'unexpected "+"'],
    ["docker ps --format '{{.Names}}'", `unexpected "." (a literal {{ is written {{ '{{' }}, e.g. for docker's --format)`],
    ["{{ params.limit ", 'template in http.url opens "{{" at character 1 but never closes it'],
    ["{{ 'open }}", "never closes it"],
    ["{{ var.api_url.x }}", 'variable "api_url" is not JSON, so it has no field "x"'],
    ["{{ ds.x }}", "ds has no fields"],
    ["{{ }}", "empty template"],
  ];
  for (const [input, want] of cases)
    test(input, () => {
      expect(() => renderString(input, ctx, "http.url")).toThrow(TemplateError);
      expect(() => renderString(input, ctx, "http.url")).toThrow(want);
    });

  test("ds without a logical_date says so", () => {
    expect(() => renderString("{{ ds }}", { ...ctx, logical_date: null }, "http.body")).toThrow(
      "template {{ ds }} in http.body: this run has no logical_date",
    );
  });
});

describe("renderJson", () => {
  test("a whole-string template keeps the JSON type; mixed strings become text; paths name the field", () => {
    const out = renderJson(
      {
        rows: "{{ xcom.extract.rows }}",
        all: "{{ xcom.extract }}",
        msg: "got {{ xcom.extract.rows }} rows",
        n: 1,
        list: ["{{ params.limit }}", null],
      },
      ctx,
      "http.json",
    );
    expect(out).toEqual({ rows: 42, all: { rows: 42, tags: ["a", "b"] }, msg: "got 42 rows", n: 1, list: [10, null] });
    expect(() => renderJson({ a: { b: ["{{ conf.nope }}"] } }, ctx, "http.json")).toThrow('in http.json.a.b[0]: no conf key "nope"');
  });
});

describe("templateNeeds, loadTemplateValues and candidateKeys", () => {
  test("collects the variables, connections and XComs the templates read, names longest first", () => {
    const needs = templateNeeds([
      "http://h/{{ var.a }} {{ var.value.b.c }} {{ var.json.d.e }}",
      "{{ xcom.t1 }} {{ params.p }} {{ ti.xcom_pull(task_ids='t2', key='k') }}",
      "{{ conn.db.password | default('x') }}",
      "{{ broken ",
    ]);
    expect(needs).toEqual({
      vars: [["a"], ["b.c"], ["d.e", "d"]],
      conns: [["db.password", "db"]],
      xcoms: [
        { taskIds: ["t1"], key: "return_value" },
        { taskIds: ["t2"], key: "k" },
      ],
      map: false,
    });
  });

  test("loads each need once and names the secrets: encrypted or secret-named variables, connection passwords", async () => {
    const asked: string[] = [];
    const values = await loadTemplateValues(
      templateNeeds([
        "{{ var.value.region }} {{ var.value.token }} {{ var.value.enc }} {{ var.value.region }}",
        "{{ conn.db.host }} {{ ti.xcom_pull(task_ids='up', key='k') }} {{ xcom.gone }}",
      ]),
      {
        variable: async (key) => (
          asked.push(`var ${key}`),
          {
            region: { value: "eu-west", secret: false },
            token: { value: "tok-123", secret: false },
            enc: { value: "enc-456", secret: true },
          }[key] ?? null
        ),
        connection: async (id) => (
          asked.push(`conn ${id}`), id === "db" ? { ...ctx.conn!.warehouse!, conn_id: "db", password: "p@ss" } : null
        ),
        xcom: async (taskId, key) => (asked.push(`xcom ${taskId} ${key}`), { value: 7 }),
      },
      new Set(["up"]),
    );
    expect(asked).toEqual(["var region", "var token", "var enc", "conn db.host", "conn db", "xcom up k"]);
    expect(values.var).toEqual({ region: "eu-west", token: "tok-123", enc: "enc-456" });
    expect(values.xcom_keys).toEqual({ up: { k: 7 } });
    expect(values.secrets.sort()).toEqual(["enc-456", "p%40ss", "p@ss", "tok-123"]);
  });

  test("dotted names are tried longest first", () => {
    expect(candidateKeys(["a", "b", "c"])).toEqual([
      { key: "a.b.c", rest: [] },
      { key: "a.b", rest: ["c"] },
      { key: "a", rest: ["b", "c"] },
    ]);
  });

  test("params are the DAG's defaults overlaid with conf", () => {
    expect(templateParams({ limit: { default: 10 }, x: {} }, { limit: 3, extra: true })).toEqual({ limit: 3, x: null, extra: true });
  });
});

describe("renderTaskFields", () => {
  const [bash, py, box] = parseDagSpec({
    dag_id: "d",
    tasks: [
      { task_id: "b", operator: "bash", bash_command: "ls /data/{{ ds_nodash }}", env: { RUN: "{{ run_id }}", PLAIN: "x" } },
      { task_id: "p", operator: "python", python_code: "print(f'{{literal}}')", env: { DAY: "{{ ds }}" } },
      { task_id: "c", operator: "container", image: "alpine", command: ["sh", "-c"], args: ["echo {{ params.limit }}"] },
    ],
  }).tasks;

  test("bash_command, env values and a container's command/args are rendered; python code is code and is not", () => {
    expect(renderTaskFields(bash!, ctx)).toMatchObject({ bash_command: "ls /data/20260301", env: { RUN: "manual__1", PLAIN: "x" } });
    expect(renderTaskFields(py!, ctx)).toMatchObject({ python_code: "print(f'{{literal}}')", env: { DAY: "2026-03-01" } });
    expect(renderTaskFields(box!, ctx)).toMatchObject({ command: ["sh", "-c"], args: ["echo 10"] });
    expect(taskTemplateTexts(py!)).toEqual(["{{ ds }}"]);
  });

  test("a failure names the field", () => {
    expect(() => renderTaskFields({ ...bash!, env: { X: "{{ conf.nope }}" } }, ctx)).toThrow(
      'template {{ conf.nope }} in env.X: no conf key "nope"',
    );
    expect(() => renderTaskFields({ ...box!, args: ["ok", "{{ nope }}"] }, ctx)).toThrow("in args[1]: unknown name");
  });
});

describe("templates no value can fix are import errors, by field", () => {
  const load = (task: Record<string, unknown>) => () => parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", ...task }] });

  test.each([
    [
      { operator: "bash", bash_command: "docker ps --format '{{.Names}}'" },
      'tasks[0].bash_command: task "t": template {{ .Names }} in bash_command: unexpected "."',
    ],
    [
      { operator: "bash", bash_command: "echo {{ ds | shout }}" },
      'tasks[0].bash_command: task "t": template {{ ds | shout }} in bash_command: unknown filter "shout"',
    ],
    [
      { operator: "bash", bash_command: "true", env: { X: "{{ nope }}" } },
      'tasks[0].env.X: task "t": template {{ nope }} in env.X: unknown name "nope"',
    ],
    [
      { operator: "container", image: "alpine", command: ["echo"], args: ["{{ ds.x }}"] },
      'tasks[0].args[0]: task "t": template {{ ds.x }} in args[0]: ds has no fields',
    ],
    [
      { operator: "http", http: { method: "POST", url: "http://h", json: { a: ["{{ macros.ds_format(ds) }}"] } } },
      'tasks[0].http.json.a[0]: task "t": template {{ macros.ds_format(ds) }} in http.json.a[0]: unknown function "macros.ds_format"',
    ],
    [
      { operator: "http", http: { method: "GET", url: "http://h/{{ ds" } },
      'tasks[0].http.url: task "t": template in http.url opens "{{" at character 10',
    ],
  ])("%j", (task, message) => expect(load(task)).toThrow(message));

  test("a long expression is quoted by its ends, not whole (a generated template of 40 KB made a 40 KB import error)", () => {
    const expr = `${"(".repeat(20_000)}1${")".repeat(20_000)}`;
    let message = "";
    try {
      load({ operator: "bash", bash_command: `echo {{ ${expr} }}` })();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`template {{ ${"(".repeat(80)}…(39891 characters)…${")".repeat(30)} }} in bash_command: unexpected "("`);
    expect(message.length).toBeLessThan(1_000);
  });

  test("what values decide (a missing variable, param or XCom) is left to the try", () => {
    expect(
      load({
        operator: "bash",
        bash_command: "echo {{ var.value.later }} {{ params.p }} {{ ti.xcom_pull(task_ids='x') }} {{ conn.c.host }}",
      }),
    ).not.toThrow();
  });
});
