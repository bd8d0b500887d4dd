-- dag_runs_active (id, for queued and running runs) is dropped. It served one read, the sweep's list of active run
-- ids, which dag_runs_state answers as well (a bitmap scan of its 'queued' and 'running' entries: the history's
-- ended runs are not read). The DAGs' counts of active runs read dag_runs_running. Every run's state change is a
-- non-HOT update that wrote an entry into every index of dag_runs, this one too: a first sweep moves every queued
-- run to running in one statement, and without it that statement over 10,000 runs took 127 ms of Postgres's time
-- against 160 (medians of twelve alternating runs on two copies of one seeded schema).
DROP INDEX IF EXISTS dag_runs_active;
