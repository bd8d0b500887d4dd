/** @jsxImportSource preact */
/** Pieces every page uses: state badges and squares, error boxes, the modal dialog, a page header. */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { useSession } from "../hooks";
import { stateColor, stateLabel } from "../states";

export function StateBadge({ state }: { state: string | null | undefined }) {
  const c = stateColor(state);
  return (
    <span class="badge" data-state={state ?? "none"}>
      <span class="dot" style={c ? { background: c } : undefined} />
      {stateLabel(state)}
    </span>
  );
}

/**
 * The pause switch's attributes: WAI-ARIA's switch (a fixed name, set by the caller; its state in aria-checked, on
 * for an active DAG) and a tooltip saying what a click does. The DAG list's rows add their own data attribute.
 */
export const pauseSwitch = (dagId: string, paused: boolean, canPause: boolean) => ({
  type: "button" as const,
  class: "switch",
  role: "switch" as const,
  "aria-checked": !paused,
  disabled: !canPause,
  title: canPause
    ? paused
      ? `Paused: click to unpause ${dagId}`
      : `Active: click to pause ${dagId} (its runs then wait until it is unpaused)`
    : `${paused ? "Paused" : "Active"} (your role may not change it)`,
});

/** Why a queued run of a paused DAG does not start (the run's page and the grid's tooltip). */
export const PAUSED_WAIT = "Queued because the DAG is paused: the run starts once the DAG is unpaused.";

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {error instanceof Error ? error.message : String(error)}
    </div>
  );
}

/**
 * A page the user's role may not open (reached by a link or a bookmark): its title and the role it needs, and
 * nothing to act with, nor a request the server would refuse.
 */
export function NeedsRole({ title, roles }: { title: string; roles: string }) {
  const role = useSession()?.role ?? "";
  return (
    <section class="page">
      <div class="page-head">
        <h1>{title}</h1>
      </div>
      <p class="notice">
        This page needs the {roles} role; you are signed in with the {role.charAt(0).toUpperCase() + role.slice(1)} role. An Admin can
        change it.
      </p>
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="muted">Loading {what}…</p>;
}

/** A modal <dialog>: focus moves in, Escape closes, focus returns to where it was. */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    const before = document.activeElement as HTMLElement | null;
    d?.showModal();
    return () => {
      d?.close();
      before?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.wide ? "wide" : ""}
      aria-label={props.title}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <header class="dialog-head">
        <h2>{props.title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </header>
      {props.children}
    </dialog>
  );
}

export function Field(props: { label: string; error?: string; hint?: string | null; children: ComponentChildren; id: string }) {
  return (
    <div class={`field${props.error ? " invalid" : ""}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint ? <p class="hint">{props.hint}</p> : null}
      {props.error ? (
        <p class="field-error" id={`${props.id}-error`} role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
