/**
 * A DAG written with the TypeScript SDK: bash → ts → python, with XCom passed along and typed.
 * `summarise` sees `ctx.xcom.extract` (bash output, `unknown`); `score` sees `ctx.xcom.summarise` typed
 * as `{ rows: number; label: string }` because summarise is a ts task listed as its upstream.
 */
import { dag, chain } from "leoflow/sdk";

dag(
  {
    dag_id: "example_sdk",
    description: "bash → ts → python, with typed XCom between ts tasks.",
    schedule: null,
    start_date: "2026-01-01T00:00:00Z",
    tags: ["example", "sdk"],
    params: { factor: { type: "integer", default: 2 } },
  },
  ({ bash, ts, python }) => {
    const extract = bash({
      task_id: "extract",
      bash_command: `echo '{"rows": 21}' > "$LEOFLOW_RETURN_VALUE_PATH"`,
    });

    const summarise = ts({ task_id: "summarise", upstream: [extract] }, (ctx) => {
      const { rows } = ctx.xcom.extract as { rows: number };
      return { rows, label: `${rows} rows from run ${ctx.run_id}` };
    });

    const score = ts({ task_id: "score", upstream: [summarise] }, async (ctx) => {
      const factor = Number(ctx.params.factor ?? 2);
      return ctx.xcom.summarise.rows * factor; // typed: number
    });

    const publish = python({
      task_id: "publish",
      python_code: "import os; print('score is', os.environ['LEOFLOW_XCOM_SCORE'])",
    });
    chain(score, publish);
  },
);
