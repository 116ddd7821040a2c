"""The upload attack set, built at test time (nothing hostile is committed):
EICAR, a PNG that is also HTML, a PDF that runs JavaScript when opened, an SVG
with a script, a pixel bomb, a zip bomb dressed as a Word file, a PDF with too
many pages, a legacy Word file with a macro project, a macro-enabled .docx.

Each is (file name, bytes). Shared by the staff and the portal upload tests.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

from documents.clamd_local import eicar

CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"/>'
)


def eicar_txt() -> tuple[str, bytes]:
    return "notes.txt", eicar()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png(
    width: int, height: int, *, rows: bytes | None = None, extra: bytes = b""
) -> bytes:
    """A greyscale PNG; `rows` the raw scanlines (default: a white image, which
    compresses to almost nothing however large it is)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    if rows is None:
        compressor = zlib.compressobj(9)
        line = b"\x00" + b"\xff" * width
        body = b"".join(compressor.compress(line) for _ in range(min(height, 64)))
        body += compressor.flush()
    else:
        body = zlib.compress(rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + extra
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )


def png_html_polyglot() -> tuple[str, bytes]:
    """A valid PNG whose text chunk is an HTML page with a script."""
    html = b"<html><body><script>document.title='pwned'</script></body></html>"
    text = _png_chunk(b"tEXt", b"Comment\x00" + html)
    return "statement.png", png(2, 2, rows=b"\x00\xff\xff" * 2, extra=text)


def pixel_bomb() -> tuple[str, bytes]:
    """30,000 x 30,000 pixels (900 megapixels) in a few kilobytes."""
    return "scan.png", png(30_000, 30_000)


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _page_pdf(extra_catalog: bytes = b"", text: bytes = b"Hello") -> bytes:
    content = b"BT /F1 24 Tf 72 700 Td (" + text + b") Tj ET"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def clean_pdf() -> tuple[str, bytes]:
    return "letter.pdf", _page_pdf()


def pdf_with_javascript(hit_url: str = "http://127.0.0.1:9/hit") -> tuple[str, bytes]:
    """Opening it runs a script (an /OpenAction JavaScript action, written
    inline in the catalog)."""
    js = f'app.launchURL("{hit_url}", true); app.alert("pdf script ran");'
    action = (
        b"/OpenAction << /Type /Action /S /JavaScript /JS (" + js.encode() + b") >>"
    )
    return "invoice.pdf", _page_pdf(action)


@functools.cache
def many_pages_pdf(pages: int = 100_000) -> tuple[str, bytes]:
    """A page tree of `pages` entries that all point at one page object: about
    1 MB, and every reader counts `pages` pages."""
    kids = b" ".join([b"3 0 R"] * pages)
    content = b"BT ET"
    return "statements.pdf", _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        ]
    )


def svg_with_script() -> tuple[str, bytes]:
    return "logo.svg", (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.domain)</script></svg>"
    )


@functools.cache
def zip_bomb_docx() -> tuple[str, bytes]:
    """A .docx whose document part unpacks to 64 MB from about 64 KB: a
    thousand to one, as a compression bomb (a real one nests and repeats this)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            block = b" " * (1024 * 1024)
            for _ in range(64):
                part.write(block)
    return "report.docx", buffer.getvalue()


def docx_with_macros() -> tuple[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 512)
    return "letter.docx", buffer.getvalue()


def ole_file(storages: list[str]) -> bytes:
    """A minimal OLE2 compound file (as legacy .doc/.xls are) holding a
    WordDocument stream and the given storages, each with one small stream.

    olefile only reads; the directory is written here by hand: a 512-byte
    header, one FAT sector, one directory sector of 4 entries per 512 bytes."""
    sector = 512
    names = ["Root Entry", "WordDocument", *storages]
    entries = []
    # Children: a flat right-sibling chain under the root (valid red-black
    # tree shape: all black, each one's right sibling the next).
    count = len(names)
    for index, name in enumerate(names):
        encoded = (name + "\0").encode("utf-16-le")
        kind = 5 if index == 0 else (2 if name == "WordDocument" else 1)
        left = 0xFFFFFFFF
        right = index + 1 if 1 <= index < count - 1 else 0xFFFFFFFF
        child = 1 if index == 0 else 0xFFFFFFFF
        start = 0xFFFFFFFE
        size = 0
        entry = (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", left, right, child)
            + b"\0" * 16  # CLSID
            + struct.pack("<I", 0)  # state bits
            + b"\0" * 16  # times
            + struct.pack("<IQ", start, size)
        )
        entries.append(entry)
    directory = b"".join(entries)
    dir_sectors = (len(directory) + sector - 1) // sector
    directory = directory.ljust(dir_sectors * sector, b"\0")
    # Sector 0: FAT; sectors 1..n: directory.
    fat = [0xFFFFFFFD]  # the FAT sector itself
    for i in range(dir_sectors):
        fat.append(i + 2 if i < dir_sectors - 1 else 0xFFFFFFFE)
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat).ljust(sector, b"\xff")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<I", 0)  # directory sectors (0 for version 3)
        + struct.pack("<I", 1)  # FAT sectors
        + struct.pack("<I", 1)  # first directory sector
        + struct.pack("<I", 0)  # transaction
        + struct.pack("<I", 4096)  # mini stream cutoff
        + struct.pack("<II", 0xFFFFFFFE, 0)  # mini FAT
        + struct.pack("<II", 0xFFFFFFFE, 0)  # DIFAT
        + struct.pack("<I", 0)  # DIFAT[0]: the FAT at sector 0
        + b"\xff" * (109 * 4 - 4)
    )
    assert len(header) == sector
    return header + fat_bytes + directory


def doc_with_macros() -> tuple[str, bytes]:
    return "engagement.doc", ole_file(["Macros", "VBA"])


def doc_without_macros() -> tuple[str, bytes]:
    return "engagement.doc", ole_file(["ObjectPool"])
