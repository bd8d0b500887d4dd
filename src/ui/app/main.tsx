/** @jsxImportSource preact */
/** The browser entry: restores the tab's session and draws the app. scripts/build-ui.ts bundles from here. */
import { render } from "preact";
import "./styles.css";
import { App } from "./app";
import { restoreSession } from "./session";
import { restoreTeam } from "./team";

restoreSession(Date.now() / 1000);
restoreTeam();
const root = document.getElementById("app");
if (root) render(<App />, root);
