/** @jsxImportSource preact */
/** A run's or task instance's note: shown to everyone, editable by those who may change runs. */
import { useState } from "preact/hooks";
import { ErrorBox } from "./common";

export function NoteEditor(props: { note: string | null; editable: boolean; save: (note: string | null) => Promise<unknown> }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(props.note ?? "");
  const [error, setError] = useState<unknown>(null);
  if (!editing)
    return (
      <section class="note">
        <h3>Note</h3>
        <p class={props.note ? "" : "muted"}>{props.note ?? "No note."}</p>
        {props.editable ? (
          <button
            type="button"
            class="ghost"
            onClick={() => {
              setText(props.note ?? "");
              setEditing(true);
            }}
          >
            {props.note ? "Edit note" : "Add note"}
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
          onClick={() =>
            props.save(text.trim() ? text : null).then(
              () => setEditing(false),
              (e) => setError(e),
            )
          }
        >
          Save note
        </button>
      </div>
    </section>
  );
}
