"""A second real picture set for issue 12's check: 1,000 colour emoji at 64 px, as a zip.

    python benchmarks/emoji_pictures.py --out /tmp/emoji            # → /tmp/emoji/emoji.zip
    python -m studio train --dataset /tmp/emoji/emoji.zip --preset auto --time-budget 600

own_pictures.py's crops are ten unrelated photographs: ten kinds of picture in one set. An artist's
folder is more often one kind. This set is one kind, made by someone else: Google's Noto emoji
as the npm package ``emoji-datasource-google`` 16.0.0 ships them (MIT; 64 px PNGs), fetched with
``npm pack`` from the npm registry (the only network this needs). 1,000 of the 1,109 in the
categories smileys, people, animals and nature, food and drink, and objects, drawn with a fixed
seed and put on white (the PNGs are transparent). A grid of the first 64 is saved beside the zip.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PACKAGE = "emoji-datasource-google@16.0.0"
CATEGORIES = ("Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Objects")


def fetch(workdir: Path) -> Path:
    """The package's folder, unpacked from ``npm pack``; a clear message if npm or the registry is missing."""
    if shutil.which("npm") is None:
        sys.exit("This needs npm (Node.js) to fetch the emoji package: apt-get install nodejs npm")
    proc = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"Could not fetch {PACKAGE} from the npm registry (offline?): {proc.stderr.strip()[-300:]}")
    tgz = workdir / proc.stdout.strip().splitlines()[-1]
    with tarfile.open(tgz) as tf:
        tf.extractall(workdir, filter="data")
    return workdir / "package"


def write_set(package: Path, out: Path, n: int, seed: int) -> Path:
    import numpy as np
    from PIL import Image

    from studio.core.images import encode_png, make_grid

    emoji = json.loads((package / "emoji.json").read_text())
    files = [e["image"] for e in emoji if e["category"] in CATEGORIES and e.get("has_img_google")]
    random.Random(seed).shuffle(files)
    files = sorted(files[:n])
    out.mkdir(parents=True, exist_ok=True)
    zpath, tiles = out / "emoji.zip", []
    with zipfile.ZipFile(zpath, "w") as zf:
        for name in files:
            im = Image.open(package / "img" / "google" / "64" / name).convert("RGBA")
            on_white = Image.new("RGBA", im.size, (255, 255, 255, 255))
            on_white.alpha_composite(im)
            buf = io.BytesIO()
            on_white.convert("RGB").save(buf, "PNG")
            zf.writestr(f"emoji/{name}", buf.getvalue())
            if len(tiles) < 64:
                tiles.append(np.asarray(on_white.convert("RGB")))
    (out / "emoji_set.png").write_bytes(encode_png(make_grid(np.stack(tiles), ncols=8)))
    print(f"{len(files)} emoji in {zpath}; the first 64 in {out / 'emoji_set.png'}")
    return zpath


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/emoji"), help="where the zip goes (outside the repo)")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_set(fetch(Path(tmp)), a.out, a.n, a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
