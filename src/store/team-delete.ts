/** What deleting a team means, the same on both stores: which rows go with it, and why it may be refused. */

/**
 * Tables whose rows a deleted team takes with it. Its DAGs (and so its runs, task instances and XComs) must
 * be gone first; its audit log stays, as a record of what people did, moved out of reach (retiredTeam).
 */
export const OWNED_BY_TEAM = [
  "pools",
  "variables",
  "connections",
  "import_errors",
  "dag_versions",
  "event_log",
  "event_log_batches",
] as const;

/**
 * Where a deleted team's audit log goes: it is kept, as a record of what people did, under a name no team can
 * have ('/' is not allowed in one), so a team created later with the same name does not read its entries.
 */
export const retiredTeam = (name: string): string => `deleted/${name}`;

/** The refusal to delete a team that still owns DAGs: which, and how to get rid of them. */
export function ownsDags(team: string, dagIds: string[]): string {
  const some = dagIds.slice(0, 5).join(", ");
  const more = dagIds.length > 5 ? ` and ${dagIds.length - 5} more` : "";
  return `team "${team}" still owns ${dagIds.length} DAG(s) (${some}${more}): remove their files from the team's DAG folder, delete each with DELETE /api/v2/dags/{dag_id} (header Leoflow-Team: ${team}), then delete the team again`;
}
