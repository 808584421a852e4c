"""Re-fetch the vendored TensorFlow.js build files from the npm registry and check their hashes.

The studio draws pictures in the viewer's browser with TensorFlow.js (ui/web/gen.js). Its build
files live in the repository (ui/web/vendor/tfjs/) so that installing the studio stays one pip
command and a page or an exported HTML file never needs the network. This script is how they got
there and how anyone can check that they are the registry's files, untouched:

    python scripts/fetch_tfjs.py            # fetch with `npm pack`, check against MANIFEST.json, copy
    python scripts/fetch_tfjs.py --check    # offline: the files in the repository match MANIFEST.json
    python scripts/fetch_tfjs.py --update   # fetch and write new hashes (after changing VERSION)

`npm pack` verifies each tarball against the registry's published sha512 integrity; the script
then compares every extracted file's sha256 with MANIFEST.json and refuses to copy on a mismatch.
Only what gen.js loads is kept: the core, the CPU, WebGL and WebAssembly backends (ES2017 UMD
builds) and the SIMD WebAssembly binary (threads need cross-origin isolation, which Streamlit
pages and file:// pages do not have; browsers without WebAssembly SIMD fall back to WebGL or CPU).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "ui" / "web" / "vendor" / "tfjs"
MANIFEST = VENDOR / "MANIFEST.json"
VERSION = "4.22.0"
# file kept in the repository -> (npm package, path inside the package tarball)
FILES = {
    "tf-core.es2017.min.js": ("@tensorflow/tfjs-core", "package/dist/tf-core.es2017.min.js"),
    "tf-backend-cpu.es2017.min.js": ("@tensorflow/tfjs-backend-cpu", "package/dist/tf-backend-cpu.es2017.min.js"),
    "tf-backend-webgl.es2017.min.js": (
        "@tensorflow/tfjs-backend-webgl",
        "package/dist/tf-backend-webgl.es2017.min.js",
    ),
    "tf-backend-wasm.es2017.min.js": ("@tensorflow/tfjs-backend-wasm", "package/dist/tf-backend-wasm.es2017.min.js"),
    "tfjs-backend-wasm-simd.wasm": ("@tensorflow/tfjs-backend-wasm", "package/dist/tfjs-backend-wasm-simd.wasm"),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def check_repo() -> list[str]:
    """Problems with the vendored files against MANIFEST.json (empty: all good). No network."""
    manifest = load_manifest()
    problems = []
    for name, entry in manifest["files"].items():
        path = VENDOR / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path.read_bytes()) != entry["sha256"]:
            problems.append(f"{name}: sha256 differs from MANIFEST.json")
    extra = {p.name for p in VENDOR.iterdir()} - set(manifest["files"]) - {"MANIFEST.json", "LICENSE", "README.md"}
    problems += [f"{name}: not in MANIFEST.json" for name in sorted(extra)]
    return problems


def npm_pack(package: str, version: str, dest: Path) -> dict:
    """``npm pack`` one package into ``dest`` (npm checks the registry's sha512 integrity)."""
    out = subprocess.run(
        ["npm", "pack", "--json", "--silent", f"{package}@{version}", "--pack-destination", str(dest)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    info = json.loads(out)[0]
    return {"tarball": info["filename"], "integrity": info["integrity"]}


def fetch(update: bool) -> int:
    version = load_manifest()["version"] if MANIFEST.exists() and not update else VERSION
    old = load_manifest() if MANIFEST.exists() else {"files": {}}
    packages: dict[str, dict] = {}
    blobs: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for package in sorted({p for p, _ in FILES.values()}):
            print(f"npm pack {package}@{version}")
            packages[package] = npm_pack(package, version, Path(tmp))
            with tarfile.open(Path(tmp) / packages[package]["tarball"]) as tar:
                for name, (pkg, member) in FILES.items():
                    if pkg == package:
                        f = tar.extractfile(member)
                        if f is None:
                            raise SystemExit(f"{member} is not a file in {package}@{version}")
                        blobs[name] = f.read()
    files = {
        name: {"package": FILES[name][0], "path": FILES[name][1], "bytes": len(data), "sha256": sha256(data)}
        for name, data in blobs.items()
    }
    if not update:
        bad = [n for n, e in files.items() if old["files"].get(n, {}).get("sha256") != e["sha256"]]
        if bad:
            print("sha256 mismatch against MANIFEST.json (nothing copied): " + ", ".join(bad), file=sys.stderr)
            return 1
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, data in blobs.items():
        tmp = VENDOR / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(VENDOR / name)
    manifest = {"version": version, "registry": "https://registry.npmjs.org", "packages": packages, "files": files}
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    total = sum(e["bytes"] for e in files.values())
    print(f"{len(files)} files, {total / 1e6:.2f} MB, in {VENDOR} ({'hashes written' if update else 'hashes match'})")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="check the repository's files offline")
    mode.add_argument("--update", action="store_true", help=f"fetch {VERSION} and write new hashes")
    args = ap.parse_args(argv)
    if args.check:
        problems = check_repo()
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print(f"TensorFlow.js {load_manifest()['version']}: every vendored file matches MANIFEST.json")
        return 1 if problems else 0
    if shutil.which("npm") is None:
        print("npm is needed to fetch from the registry (it comes with Node.js).", file=sys.stderr)
        return 1
    return fetch(args.update)


if __name__ == "__main__":
    sys.exit(main())
