/** The version the binary reports (`leoflow version`, GET /api/v2/version), from package.json at build time. */
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
