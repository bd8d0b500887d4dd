/** @jsxImportSource preact */
/** A real link (keyboard, middle-click and copy work) that moves inside the app without a reload. */
import type { AnchorHTMLAttributes, ComponentChildren, TargetedMouseEvent } from "preact";
import { navigate } from "../router";

type Props = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; children?: ComponentChildren };

export function Link(props: Props) {
  const { href, onClick, ...rest } = props;
  return (
    <a
      {...rest}
      href={href}
      onClick={(e) => {
        if (onClick) (onClick as (e: TargetedMouseEvent<HTMLAnchorElement>) => void)(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    />
  );
}
