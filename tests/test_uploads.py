"""Uploads (studio.data.gate.ingest_upload): the hostile and broken corpus, generated here, and the
processing options checked on known images.

Every case asserts the one plain sentence a person sees and that nothing was written anywhere
except data_dir()/datasets/<name>/ (the whole tmp_path tree is snapshotted before and after; the
working directory is inside it, so a zip "extracted" to ../ would show up too).
"""

import io
import os
import re
import stat
import struct
import tomllib
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio import data as D
from studio.core.errors import StudioError
from studio.data import gate

ROOT = Path(__file__).resolve().parents[1]
OPTS = D.PreprocessOptions(image_size=32, mode="RGB", crop="center")


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "cwd" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "cwd" / "deep")
    return tmp_path


# --- generators -----------------------------------------------------------------------------------


def encode(img, fmt="PNG", **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def good_files(n=16, size=(20, 20)):
    """n distinct small PNGs (distinct pixels, so none is a duplicate)."""
    out = []
    for i in range(n):
        img = Image.new("RGB", size, (i * 15 % 256, 255 - i * 9, 40))
        img.putpixel((i % size[0], 0), (255, 255, 255))
        out.append((f"good_{i:02d}.png", encode(img)))
    return out


def zip_bytes(entries, compression=zipfile.ZIP_DEFLATED):
    """entries: (name or ZipInfo, bytes)."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return b.getvalue()


def raw_png(w, h, bit_depth=8):
    """A valid grayscale PNG of w×h black pixels built with zlib, without Pillow holding the pixels."""
    row = bytes(1 + (w * bit_depth + 7) // 8)
    comp = zlib.compressobj(9)
    block = row * 64
    parts = [comp.compress(block) for _ in range(h // 64)] + [comp.compress(row * (h % 64)), comp.flush()]

    def chunk(tag, payload):
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))

    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def half_image(size=(64, 32), left=(255, 0, 0), right=(0, 0, 255)):
    w, h = size
    img = Image.new("RGB", size, right)
    img.paste(left, (0, 0, w // 2, h))
    return img


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in root.rglob("*")
        if not p.is_dir()
    }


BAD_WORDS = re.compile(r"Traceback|Error:|Exception|\b[A-Z]\w*(Error|Exception)\b|File \"|errno|<|>", re.IGNORECASE)


def assert_plain(msg: str):
    assert msg and (msg[0].isupper() or msg[0] == "'") and msg.endswith("."), msg
    assert not BAD_WORDS.search(msg), msg
    assert "\n" not in msg and len(msg) < 300, msg
    # one sentence: no full stop followed by another capitalised sentence
    assert not re.search(r"\.\s+[A-Z]", msg), msg


def ingest(tmp_path, files, name="case", **kw):
    """Ingest and check that only data/datasets/<name>/ changed."""
    before = tree(tmp_path)
    try:
        return D.ingest_upload(files, name, kw.pop("opts", OPTS), **kw)
    finally:
        after = tree(tmp_path)
        changed = {k for k in after if before.get(k) != after[k]} | (set(before) - set(after))
        outside = [k for k in changed if not k.startswith(f"data/datasets/{D.safe_dataset_name(name)}/")]
        assert not outside, f"written outside the dataset folder: {outside}"
        assert not any(Path(k).name.startswith("evil") for k in after), "a hostile zip member reached the disk"


def expect_error(tmp_path, files, match, name="case"):
    before = tree(tmp_path)
    with pytest.raises(StudioError) as e:
        ingest(tmp_path, files, name=name)
    assert tree(tmp_path) == before, "a failed upload must write nothing at all"
    assert_plain(str(e.value))
    assert re.search(match, str(e.value)), str(e.value)
    return e.value


# --- one bad file among good ones: skipped with one plain reason -----------------------------------


def _corrupt_png():
    d = bytearray(encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8))))
    d[120:200] = bytes(80)  # zero a stretch of the compressed pixel data
    return bytes(d)


def _truncated_jpeg():
    d = encode(Image.fromarray(np.random.default_rng(1).integers(0, 255, (48, 48, 3), dtype=np.uint8)), "JPEG")
    return d[: len(d) // 2]


def _symlink_zip():
    info = zipfile.ZipInfo("pics/link.png")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return zip_bytes([(info, b"/etc/passwd"), ("pics/ok.png", good_files(17)[16][1])])


def _patch(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) and data.count(old) == 2  # local header + central directory
    return data.replace(old, new)


def _set_flag(data: bytes, bit: int) -> bytes:
    """Set a general-purpose flag bit on every local and central header of a zip."""
    d = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = d.find(sig)
        while i >= 0:
            flags = struct.unpack_from("<H", d, i + off)[0] | bit
            struct.pack_into("<H", d, i + off, flags)
            i = d.find(sig, i + 4)
    return bytes(d)


CASES = {
    # id: (files, expected (shown name, reason))
    "corrupt_png": (lambda: [("corrupt.png", _corrupt_png())], ("corrupt.png", gate.R_DAMAGED)),
    "truncated_jpeg": (lambda: [("cut.jpg", _truncated_jpeg())], ("cut.jpg", gate.R_TRUNCATED)),
    "text_named_png": (
        lambda: [("notes.png", b"these are my notes, not a picture\n")],
        ("notes.png", gate.R_UNREADABLE),
    ),
    "zero_bytes": (lambda: [("empty.png", b"")], ("empty.png", gate.R_EMPTY)),
    "not_an_image_type": (lambda: [("song.mp3", b"ID3\x03" + bytes(100))], ("song.mp3", gate.R_NOT_IMAGE_TYPE)),
    "zip_dotdot": (
        lambda: [("a.zip", zip_bytes([("../../evil.png", good_files(17)[16][1])]))],
        ("a.zip/../../evil.png", gate.R_UNSAFE_PATH),
    ),
    "zip_absolute": (
        lambda: [("a.zip", zip_bytes([("/tmp/evil.png", good_files(17)[16][1])]))],
        ("a.zip//tmp/evil.png", gate.R_UNSAFE_PATH),
    ),
    "zip_windows_absolute": (
        lambda: [("a.zip", zip_bytes([("C:/evil.png", good_files(17)[16][1])]))],
        ("a.zip/C:/evil.png", gate.R_UNSAFE_PATH),
    ),
    "zip_symlink": (lambda: [("a.zip", _symlink_zip())], ("a.zip/pics/link.png", gate.R_SYMLINK)),
    "zip_ratio_bomb": (
        lambda: [("bomb.zip", zip_bytes([("big.bmp", bytes(4 << 20)), ("ok.png", good_files(17)[16][1])]))],
        ("bomb.zip/big.bmp", gate.R_RATIO),
    ),
    "nested_zip": (
        lambda: [
            ("outer.zip", zip_bytes([("inner.zip", zip_bytes([("x.png", b"x")])), ("ok.png", good_files(17)[16][1])]))
        ],
        ("outer.zip/inner.zip", gate.R_NESTED),
    ),
    "nested_zip_renamed": (
        lambda: [
            ("outer.zip", zip_bytes([("inner.png", zip_bytes([("x.png", b"x")])), ("ok.png", good_files(17)[16][1])]))
        ],
        ("outer.zip/inner.png", gate.R_NESTED),
    ),
    "not_a_zip": (lambda: [("broken.zip", b"PK\x03\x04" + bytes(50))], ("broken.zip", gate.R_BAD_ZIP)),
    "zip_lying_size": (
        lambda: [
            (
                "lie.zip",
                _patch(
                    zip_bytes([("lie.png", good_files(17)[16][1])], zipfile.ZIP_STORED),
                    struct.pack("<I", len(good_files(17)[16][1])) * 2,
                    struct.pack("<I", len(good_files(17)[16][1])) + struct.pack("<I", 40),
                ),
            )
        ],
        ("lie.zip/lie.png", gate.R_ZIP_READ),
    ),
    "zip_encrypted": (
        lambda: [("locked.zip", _set_flag(zip_bytes([("secret.png", good_files(17)[16][1])]), 0x1))],
        ("locked.zip/secret.png", gate.R_ENCRYPTED),
    ),
    "zip_utf8_flag_invalid_names": (
        lambda: [("names.zip", _patch(zip_bytes([("é.png", b"x")]), "é.png".encode(), b"\xff\xfe.png"))],
        ("names.zip", gate.R_ZIP_NAMES),
    ),
    "one_pixel": (lambda: [("dot.png", encode(Image.new("RGB", (1, 1))))], ("dot.png", gate._too_small(1, 1))),
    "thin_strip": (lambda: [("strip.png", encode(Image.new("L", (400, 4))))], ("strip.png", gate._too_small(400, 4))),
    "pixel_bomb_64mp": (lambda: [("bomb.png", raw_png(8000, 8000))], ("bomb.png", gate._too_large(8000, 8000))),
    "huge_20000_square": (
        lambda: [("huge.png", raw_png(20000, 20000, bit_depth=1))],
        ("huge.png", gate.R_TOO_MANY_PIXELS),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_bad_file_is_skipped_with_a_plain_reason(env, case):
    make, (shown, reason) = CASES[case]
    rep = ingest(env, good_files() + make(), name=f"case_{case}")
    assert_plain(reason)
    assert (shown, reason) in rep.skipped, rep.skipped
    assert rep.used >= 16 and rep.path is not None
    assert (rep.path / "images.npz").is_file() and (rep.path / "meta.json").is_file()
    assert [s[0] for s in rep.skipped] == [shown], rep.skipped


def test_huge_image_is_rejected_from_its_header_by_our_limit(env, monkeypatch):
    # 10,000 × 5,000 = 50 MP: under Pillow's own bomb limit, over ours; rejected before decoding
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    rep = ingest(env, good_files() + [("wide.png", raw_png(10000, 5000, bit_depth=1))])
    assert rep.skipped == [("wide.png", gate._too_large(10000, 5000))]


def test_macos_junk_and_dotfiles_are_ignored_silently(env):
    files = [(f"pics/{n}", d) for n, d in good_files()] + [
        ("__MACOSX/pics/._good_00.png", b"\0\x05\x16\x07junk"),
        ("pics/.DS_Store", b"\0\0\0\1Bud1"),
        ("pics/.hidden.png", b"nope"),
        ("pics/Thumbs.db", b"nope"),
        ("pics/", b""),
    ]
    rep = ingest(env, [("art.zip", zip_bytes(files))] + [(".DS_Store", b"x")])
    assert rep.used == 16 and rep.skipped == [] and rep.duplicates == []


def test_exact_duplicates_reported_and_dropped(env):
    good = good_files()
    same_pixels_as_bmp = encode(Image.open(io.BytesIO(good[3][1])).convert("RGB"), "BMP")
    rep = ingest(env, good + [("copy.png", good[0][1]), ("again.bmp", same_pixels_as_bmp)])
    assert rep.used == 16
    assert rep.duplicates == [("copy.png", "good_00.png"), ("again.bmp", "good_03.png")]


def test_non_utf8_names_never_crash(env, tmp_path):
    # a zip written by a tool that stored raw non-UTF-8 bytes without the UTF-8 flag
    ok = good_files(18)
    z = zip_bytes([("XXbroken.png", b"text, not a picture"), ("YYYgood.png", ok[16][1]), ("ZZZ.png", ok[17][1])])
    z = _patch(z, b"XXbroken.png", b"\xff\xfebroken.png")
    z = _patch(z, b"YYYgood.png", b"\xe9good\x81\x82.png")  # cp1252-ish, not UTF-8 either
    z = _patch(z, b"ZZZ.png", "日.png".encode())  # real UTF-8, no flag
    rep = ingest(env, good_files() + [("names.zip", z), ("bad\udcff.png", b"x")])
    names = [s[0] for s in rep.skipped]
    assert len(names) == 2 and all(n.isprintable() for n in names)
    assert "bad\ufffd.png" in names
    assert any(n.startswith("names.zip/") and n.endswith("broken.png") for n in names)
    assert rep.used == 18
    assert any(s.endswith("日.png") for s in rep.sources)
    meta = (rep.path / "meta.json").read_text(encoding="utf-8")
    assert "broken.png" in meta


def test_non_utf8_file_names_in_a_folder(env, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    for n, d in good_files():
        (folder / n).write_bytes(d)
    with open(os.path.join(os.fsencode(folder), b"\xff\xfe.png"), "wb") as f:
        f.write(b"not an image")
    ds = D.load_dataset(str(folder), 32)
    assert ds.skipped == [("\ufffd\ufffd.png", gate.R_UNREADABLE)]


# --- whole-upload problems: one StudioError, nothing written -----------------------------------------


def test_empty_zip(env):
    expect_error(env, [("empty.zip", zip_bytes([]))], r"^'empty.zip' could not be used: the zip archive is empty\.$")


def test_zip_with_only_folders_and_junk_is_empty(env):
    expect_error(
        env,
        [("junk.zip", zip_bytes([("a/", b""), ("__MACOSX/._a", b"x"), (".DS_Store", b"x")]))],
        r"zip archive is empty",
    )


def test_zip_with_no_images(env):
    expect_error(
        env,
        [("docs.zip", zip_bytes([("readme.txt", b"hi"), ("data.csv", b"1,2")]))],
        r"^'docs.zip' could not be used: the zip archive contains no images",
    )


def test_too_few_images(env):
    err = expect_error(env, good_files(5), r"^Only 5 usable images were found; at least 16 are needed")
    assert err.report is not None and err.report.used == 5  # the page can still show the preview


def test_too_few_after_duplicates(env):
    good = good_files(15)
    expect_error(
        env, good + [("dup.png", good[0][1])], r"Only 15 usable images were found \(after dropping 1 exact duplicate\)"
    )


def test_nothing_usable(env):
    expect_error(env, [("a.png", b""), ("b.png", b"text")], r"^None of the files could be used as images")


def test_single_broken_file(env):
    expect_error(env, [("a.png", b"")], r"^'a.png' could not be used: the file is empty")


def test_no_files(env):
    expect_error(env, [], r"^No files were uploaded\.$")


def test_upload_over_the_size_limit(env, monkeypatch):
    monkeypatch.setattr(gate, "MAX_UPLOAD_MB", 1)
    expect_error(env, good_files() + [("big.bmp", bytes(1 << 20))], r"^The upload is 1 MB, over the 1 MB limit")


def test_size_limit_matches_streamlit_config():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["maxUploadSize"] == D.MAX_UPLOAD_MB == 200


def test_zip_declaring_more_than_a_gigabyte(env):
    # a real zip whose central directory claims a 4 GB member: refused before reading a byte
    z = zip_bytes([("big.png", b"x" * 1000)], zipfile.ZIP_STORED)
    i = z.find(b"PK\x01\x02")
    z = z[: i + 24] + struct.pack("<I", 0xFFFFFFF0) + z[i + 28 :]
    expect_error(
        env,
        good_files() + [("big.zip", z)],
        r"^The zip archive 'big.zip' would unpack to [\d,]+ MB, over the 1,024 MB limit",
    )


def test_zip_bytes_counted_while_reading():
    # zipfile stops at the declared size, and on top of that we count the real bytes read against the
    # upload's budget in chunks, so a member can never unpack past what is left of the 1 GB
    z = zip_bytes([("a.png", bytes(5000))], zipfile.ZIP_STORED)
    with zipfile.ZipFile(io.BytesIO(z)) as zf:
        info = zf.infolist()[0]
        assert len(gate._read_member(zf, info, gate._Counter(10_000))) == 5000
        with pytest.raises(StudioError, match="unpacks to more than") as e:
            gate._read_member(zf, info, gate._Counter(4000))
    assert_plain(str(e.value))


def test_too_many_files_in_a_zip(env, monkeypatch):
    monkeypatch.setattr(gate, "MAX_FILES", 10)
    expect_error(env, [("many.zip", zip_bytes(good_files(12)))], r"^The upload holds more than 10 files")


def test_zip_listing_too_many_entries_is_refused_before_parsing(env):
    # 30,000 empty entries: refused from the end record's count, before zipfile builds 30,000 objects
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as zf:
        for i in range(30_000):
            zf.writestr(f"{i}.png", b"")
    expect_error(
        env,
        [("many.zip", b.getvalue())],
        r"^The upload holds more than 20,000 files \(the zip archive 'many.zip' alone lists 30,000\)",
    )


def test_bad_dataset_names(env):
    for name, match in (
        ("", "Give the dataset a name"),
        ("  !!  ", "Give the dataset a name"),
        ("MNIST", "built-in dataset"),
    ):
        expect_error(env, good_files(), match, name=name)
    rep = ingest(env, good_files(), name="../../etc/Cats & Dogs")
    assert rep.name == "etc_cats_dogs" and rep.path.parent == env / "data" / "datasets"


def test_dry_run_writes_nothing(env):
    before = tree(env)
    rep = D.ingest_upload(good_files(), "", OPTS, dry_run=True)
    assert tree(env) == before and rep.path is None and rep.used == 16
    assert rep.preview.dtype == np.uint8 and rep.preview.ndim == 3
    assert rep.images.shape == (16, 32, 32, 3)
    assert any("DiffAugment" in w for w in rep.warnings)


# --- formats that must be converted correctly --------------------------------------------------------


def process(data: bytes, **kw) -> np.ndarray:
    opts = D.PreprocessOptions(**{"image_size": 32, "mode": "RGB", "crop": "stretch", **kw})
    return D.preprocess_image(Image.open(io.BytesIO(data)), opts)


def near(pixel, color, tol=24):
    return np.abs(np.asarray(pixel, int) - np.asarray(color, int)).max() <= tol


def test_cmyk_jpeg():
    x = process(encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG", quality=95))
    assert x.shape == (32, 32, 3) and near(x[16, 16], (255, 0, 0))


def test_16_bit_png_is_scaled_not_clipped():
    a = np.full((16, 16), 65535, np.uint16)
    a[:, :8] = 32896
    img = Image.fromarray(a)
    x = process(encode(img), mode="L")
    assert x.shape == (32, 32, 1) and x[8, 4, 0] == 128 and x[8, 28, 0] == 255


def test_palette_png_with_transparency_on_white():
    img = Image.new("P", (16, 16), 1)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(0, (0, 0, 8, 16))  # left half: palette index 0, declared transparent
    x = process(encode(img, transparency=0))
    assert near(x[16, 2], (255, 255, 255), 2) and near(x[16, 29], (0, 0, 255), 2)


def test_gray_alpha_png_on_white():
    img = Image.new("LA", (16, 16), (0, 255))
    img.paste((0, 0), (0, 0, 8, 16))
    x = process(encode(img), mode="L")
    assert x[16, 2, 0] == 255 and x[16, 29, 0] == 0


def test_animated_gif_uses_first_frame():
    red, blue = Image.new("RGB", (16, 16), (255, 0, 0)), Image.new("RGB", (16, 16), (0, 0, 255))
    x = process(encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0))
    assert near(x[16, 16], (255, 0, 0), 2)


def test_exif_orientation_6_is_respected():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = encode(half_image((40, 20)), "JPEG", quality=95, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).size == (40, 20)
    x = process(data)
    # rotating clockwise brings the left (red) half to the top
    assert near(x[4, 16], (255, 0, 0)) and near(x[28, 16], (0, 0, 255))


def test_crop_modes_on_a_known_image():
    data = encode(half_image((64, 32)))  # left half red, right half blue, 2:1
    c = process(data, crop="center")
    p = process(data, crop="pad")
    s = process(data, crop="stretch")
    # centre crop keeps x 16..48: still half red, half blue, no bars
    assert near(c[2, 4], (255, 0, 0)) and near(c[2, 28], (0, 0, 255)) and near(c[30, 4], (255, 0, 0))
    # pad: black bars of 8 rows top and bottom, the picture in the middle
    assert near(p[2, 4], (0, 0, 0)) and near(p[29, 28], (0, 0, 0))
    assert near(p[16, 4], (255, 0, 0)) and near(p[16, 28], (0, 0, 255))
    # stretch: no bars, every row has red left and blue right
    assert near(s[1, 2], (255, 0, 0)) and near(s[30, 29], (0, 0, 255))
    # stretch squashes horizontally, centre crop cuts: red is half the width in both, 3/4 of ... rows
    assert (s[:, :14, 0] > 200).all() and (s[:, 18:, 2] > 200).all()


def test_grayscale_and_sizes():
    data = encode(half_image((64, 32)))
    for size in (32, 64, 128):
        x = process(data, image_size=size, mode="L")
        assert x.shape == (size, size, 1) and x.dtype == np.uint8
    g = process(data, mode="L")
    assert abs(int(g[16, 4, 0]) - 76) <= 2 and abs(int(g[16, 28, 0]) - 29) <= 2  # luma of red / blue


def test_upload_options_are_validated():
    with pytest.raises(StudioError, match="32, 64, 128"):
        D.ingest_upload(good_files(), "x", D.PreprocessOptions(image_size=48), dry_run=True)
    with pytest.raises(StudioError, match="crop"):
        D.ingest_upload(good_files(), "x", D.PreprocessOptions(crop="zoom"), dry_run=True)


def test_saved_dataset_keeps_options(env):
    rep = ingest(
        env, good_files(), name="grays", opts=D.PreprocessOptions(image_size=64, mode="L", crop="pad", flip=True)
    )
    ds = D.load_dataset("grays", 64)
    assert ds.images.shape == (16, 64, 64, 1) and ds.flip
    assert rep.path == env / "data" / "datasets" / "grays"
