/** The team an event-log row belongs to, on both stores. */

/**
 * The event's own `team`. An event without one (a producer's bug) gets "", a team no one is in: it is kept,
 * so the log's ids stay gapless for readers, but no team's stream ever shows it.
 */
export const eventTeam = (event: Record<string, unknown>): string => (typeof event.team === "string" ? event.team : "");
