/** A component that draws again only when one of its props changes by identity: preact/compat's `memo` without loading compat. */
import { Component, type ComponentChildren } from "preact";

export function pure<P extends object>(render: (props: P) => ComponentChildren) {
  return class Pure extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const prev = this.props as Record<string, unknown>;
      const now = next as Record<string, unknown>;
      for (const k in now) if (now[k] !== prev[k]) return true;
      for (const k in prev) if (!(k in now)) return true;
      return false;
    }
    override render(props: P): ComponentChildren {
      return render(props);
    }
  };
}
