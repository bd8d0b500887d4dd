/**
 * What the binary reports about itself (`leoflow version`, GET /api/v2/version). The version comes from
 * package.json; scripts/build.ts bakes the release version, the commit and the build date in as constants
 * (Bun's `define`), so a copied binary still says which source it was built from. Run from source, the
 * commit and date read "dev".
 */
import pkg from "../package.json" with { type: "json" };

// Replaced by scripts/build.ts (Bun.build `define`); undeclared when running from source.
declare const LEOFLOW_BUILD_VERSION: string | undefined;
declare const LEOFLOW_BUILD_COMMIT: string | undefined;
declare const LEOFLOW_BUILD_DATE: string | undefined;

export const VERSION: string = typeof LEOFLOW_BUILD_VERSION === "string" ? LEOFLOW_BUILD_VERSION : pkg.version;
export const COMMIT: string = typeof LEOFLOW_BUILD_COMMIT === "string" ? LEOFLOW_BUILD_COMMIT : "dev";
export const BUILD_DATE: string = typeof LEOFLOW_BUILD_DATE === "string" ? LEOFLOW_BUILD_DATE : "dev";

/** The lines `leoflow version` prints. */
export function versionText(): string {
  return `leoflow ${VERSION}\ncommit ${COMMIT}\nbuilt ${BUILD_DATE}\n`;
}
