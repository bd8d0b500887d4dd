/** @jsxImportSource preact */
/**
 * A run's or task instance's note: shown to everyone, editable by those who may change runs. Shown as the text it
 * is, line breaks kept (Airflow 3 renders notes as Markdown; plain text keeps the bundle small and never draws a
 * note's HTML).
 */
import { useState } from "preact/hooks";
import { ErrorBox } from "./common";

/**
 * `note` is what is shown; `userNote`, where given, is the part a user wrote (a task instance shows the system's
 * reason, a full pool or an exit code, when no one wrote a note): only that is edited, so saving never turns the
 * system's reason into a user's note.
 */
export function NoteEditor(props: {
  note: string | null;
  userNote?: string | null;
  editable: boolean;
  save: (note: string | null) => Promise<unknown>;
}) {
  const own = props.userNote === undefined ? props.note : props.userNote;
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(own ?? "");
  const [error, setError] = useState<unknown>(null);
  if (!editing)
    return (
      <section class="note">
        <h3>Note</h3>
        <p class={props.note ? "note-text" : "muted"} data-testid="note">
          {props.note ?? "No note."}
        </p>
        {props.editable ? (
          <button
            type="button"
            class="ghost"
            onClick={() => {
              setText(own ?? "");
              setEditing(true);
            }}
          >
            {own ? "Edit note" : "Add note"}
          </button>
        ) : null}
      </section>
    );
  return (
    <section class="note">
      <h3>Note</h3>
      <textarea aria-label="Note" rows={3} maxLength={1000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <ErrorBox error={error} title="Could not save the note" />
      <div class="actions left">
        <button type="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
        <button
          type="button"
          class="primary"
          onClick={() => {
            const next = text.trim() ? text : null;
            // Unchanged: nothing to send (the PATCH names only the note, so other fields are never sent either).
            if (next === own) return setEditing(false);
            props.save(next).then(
              () => setEditing(false),
              (e) => setError(e),
            );
          }}
        >
          Save note
        </button>
      </div>
    </section>
  );
}
