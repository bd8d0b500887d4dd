/** The error the Postgres driver throws for a refused connection: what a store whose database is down throws. */
import postgres from "postgres";

export async function refusedConnectionError(): Promise<Error> {
  const down = postgres("postgres://nobody@127.0.0.1:1/none", { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    return await down`select 1`.then(
      () => new Error("a connection to 127.0.0.1:1 was not refused"),
      (e: Error) => e,
    );
  } finally {
    await down.end({ timeout: 0 });
  }
}
