/** @jsxImportSource preact */
/** A scrolling box that draws only the rows in view (fixed row height, so nothing shifts while data arrives). */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { rowWindow } from "../virtual";

export function VirtualRows(props: {
  count: number;
  rowHeight: number;
  row: (index: number) => ComponentChildren;
  onRange?: (start: number, end: number) => void;
  class?: string;
  label: string;
  /** Rows drawn beyond each edge of the view, so a quick scroll shows no gap. */
  overscan?: number;
  /** One handler for the rows' buttons and links (they are real buttons and links, so the keyboard reaches it as clicks). */
  onClick?: (e: MouseEvent) => void;
  header?: ComponentChildren;
}) {
  const box = useRef<HTMLElement>(null);
  const [view, setView] = useState({ top: 0, height: 800 });
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const update = () => setView({ top: el.scrollTop, height: el.clientHeight });
    update();
    const ro = new ResizeObserver(update);
    ro.observe(el);
    el.addEventListener("scroll", update, { passive: true });
    return () => {
      ro.disconnect();
      el.removeEventListener("scroll", update);
    };
  }, []);
  const w = rowWindow(props.count, props.rowHeight, view.top, view.height, props.overscan);
  useEffect(() => props.onRange?.(w.start, w.end), [w.start, w.end, props.count]);
  const rows: ComponentChildren[] = [];
  for (let i = w.start; i < w.end; i++) rows.push(props.row(i));
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: delegated clicks of the buttons and links inside
    <section class={`vscroll ${props.class ?? ""}`} ref={box} aria-label={props.label} onClick={props.onClick}>
      {props.header}
      <div style={{ height: `${w.total}px`, position: "relative" }}>
        <div style={{ transform: `translateY(${w.offset}px)` }}>{rows}</div>
      </div>
    </section>
  );
}
