/** The generated UI bundle (scripts/build-ui.ts writes it; not committed), typed for when it exists and when it does not. */
declare module "*/ui-bundle.gen.js" {
  export const bundle: import("./index").UiBundle;
}
