/**
 * Builds a tiny pure-Python wheel (`NAME/__init__.py` with `hello()`) with Python's zipfile, so tests of the
 * DAGs' python environments install from a local wheel folder offline (pip --no-index --find-links).
 */
const SCRIPT = `
import sys, zipfile, base64, hashlib
out, name, version = sys.argv[1], sys.argv[2], sys.argv[3]
info = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": f"VERSION = {version!r}\\ndef hello():\\n    return 'hello from {name} ' + VERSION\\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: leoflow-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
for path, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(text.encode())}")
files[f"{info}/RECORD"] = "\\n".join(record + [f"{info}/RECORD,,"]) + "\\n"
with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
    for path, text in files.items():
        z.writestr(path, text)
`;

export function buildTinyWheel(folder: string, name: string, version: string): void {
  const r = Bun.spawnSync(["python3", "-c", SCRIPT, folder, name, version], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`building the test wheel failed: ${r.stderr.toString()}`);
}
