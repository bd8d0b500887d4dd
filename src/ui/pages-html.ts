/** The two HTML documents the server writes itself: the app's shell, and the page shown when there is no bundle. Pure. */

/** index.html: loads the hashed assets; everything else is drawn by the app. */
export function indexHtml(hash: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Leoflow</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.${hash}.css">
<script type="module" src="/assets/app.${hash}.js"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Leoflow web UI needs JavaScript. The REST API under /api/v2 and the leoflow command line work without it.</noscript>
</body>
</html>
`;
}

/** 503 body when the server runs from source and the UI bundle was never built. */
export function missingBundlePage(): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Leoflow: web UI not built</title></head>
<body>
<h1>The web UI is not built</h1>
<p>This server runs from source and found no UI bundle (src/ui/generated/ui-bundle.gen.js).
Build it with <code>bun scripts/build-ui.ts</code> and reload this page, or run the compiled binary
(<code>bun scripts/build.ts</code> builds dist/leoflow with the UI inside).</p>
<p>The REST API under <code>/api/v2</code> works without it.</p>
</body>
</html>
`;
}
