"""Paper for OCR, made here: scans, PDFs with and without text, bad PDFs.

The tests (`tests/documents/scans.py` re-exports this module), the OCR benchmark
and demo seeding all need documents that look like what clients upload: a page
of black text on white paper, scanned to PNG or to an image-only PDF; a poor
scan (grey, blurred, speckled and a little crooked) that tesseract reads with
low confidence; a PDF with a real text layer; a password-protected PDF; a
damaged one. Everything is drawn with Pillow and written by hand, so nothing
depends on files in the repository or on a PDF library that can write.

Every function returns bytes (or a Pillow image for the `*_image` ones).
"""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageFilter, ImageFont

DPI = 200
# US Letter at 200 dpi (8.5 x 11 in).
PAGE_SIZE = (1700, 2200)
MARGIN = 150
FONT_PX = 40  # about 14 pt at 200 dpi: what a printed form's body text looks like

_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)

W2_LINES = (
    "Form W-2 Wage and Tax Statement 2025",
    "Employer identification number 12-3456789",
    "Employer name Northwind Traders Incorporated",
    "Employee name Jordan Example",
    "Wages, tips, other compensation 84,250.00",
    "Federal income tax withheld 12,410.00",
    "Social security wages 84,250.00",
    "Medicare wages and tips 84,250.00",
    "Copy B To Be Filed With Employee's Federal Tax Return",
)

FORM_1099_LINES = (
    "Form 1099-INT Interest Income 2025",
    "Payer name Riverside Savings Bank",
    "Recipient name Jordan Example",
    "Interest income 1,284.17",
    "Early withdrawal penalty 0.00",
    "Federal income tax withheld 0.00",
    "Copy B For Recipient",
)

BANK_STATEMENT_LINES = (
    "Riverside Savings Bank",
    "Account Statement",
    "Statement period January 1, 2025 to January 31, 2025",
    "Account number ending 4821",
    "Beginning balance 10,412.55",
    "Deposits and other credits 6,200.00",
    "Withdrawals and other debits 4,877.31",
    "Ending balance 11,735.24",
)

RECEIPT_LINES = (
    "CORNER OFFICE SUPPLY",
    "Receipt 004512",
    "Date 03/14/2025",
    "Printer paper 2 x 8.99",
    "Toner cartridge 64.50",
    "Subtotal 82.48",
    "Sales tax 6.81",
    "Total 89.29",
    "Paid by card. Thank you for your purchase",
)


@cache
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONT_FILES:
        if Path(path).exists():
            return ImageFont.truetype(path, px)
    # Pillow >= 10.1 ships a scalable default font (Aileron) when FreeType is there.
    return ImageFont.load_default(size=px)


def page_image(
    lines: Sequence[str],
    *,
    size: tuple[int, int] = PAGE_SIZE,
    font_px: int = FONT_PX,
    dpi: int = DPI,
) -> Image.Image:
    """A white page (greyscale) with `lines` printed in black, one per row.

    `dpi` other than 200 scales the default page, margins and type with it.
    """
    scale = dpi / DPI
    if dpi != DPI:
        size = size if size != PAGE_SIZE else (round(1700 * scale), round(2200 * scale))
        font_px = font_px if font_px != FONT_PX else round(FONT_PX * scale)
    margin = round(MARGIN * scale)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = _font(font_px)
    y = margin
    for line in lines:
        draw.text((margin, y), line, fill=0, font=font)
        y += int(font_px * 1.8)
    return image


def statement_page_lines(page: int) -> list[str]:
    """A full page of a bank statement (26 lines): realistic work for OCR."""
    rng = random.Random(page)  # noqa: S311  (repeatable content, not secrecy)
    payees = (
        "Corner Office Supply",
        "City Water Utility",
        "Northwind Traders Payroll",
        "Riverside Insurance Premium",
        "Online Transfer to Savings",
        "Card Purchase Hardware Store",
        "Deposit Mobile Check",
        "Electric Company Autopay",
    )
    lines = [
        "Riverside Savings Bank Account Statement",
        f"Statement period March 1, 2025 to March 31, 2025 Page {page + 1}",
        "Date Description Amount Balance",
    ]
    balance = 10_000 + 137 * page
    for day in range(1, 24):
        amount = rng.randrange(-90_000, 60_000) / 100
        balance += amount
        lines.append(
            f"03/{(day % 28) + 1:02} {rng.choice(payees)} {amount:,.2f} {balance:,.2f}"
        )
    return lines


def noisy_image(lines: Sequence[str], *, seed: int = 7) -> Image.Image:
    """A poor scan of `lines`: grey ink on grey paper, blurred, speckled, crooked.

    Tesseract still finds words in it, with a mean confidence well under 0.80.
    """
    rng = random.Random(seed)  # noqa: S311  (repeatable noise, not secrecy)
    page = page_image(lines, font_px=30)
    # Low contrast: ink at 100, paper at 190.
    page = page.point(lambda v: 100 + (v * 90) // 255)
    page = page.rotate(3.0, resample=Image.Resampling.BICUBIC, fillcolor=190)
    page = page.filter(ImageFilter.GaussianBlur(radius=1.4))
    # Speckles: dark and light dots over a thirtieth of the page.
    pixels = page.load()
    width, height = page.size
    for _ in range(width * height // 30):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = rng.choice((40, 90, 230, 255))
    return page


def png_bytes(image: Image.Image, *, dpi: int = DPI) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


def scan_png(lines: Sequence[str] = W2_LINES) -> bytes:
    """A clean scan of one page, as PNG."""
    return png_bytes(page_image(lines))


def noisy_scan_png(lines: Sequence[str] = W2_LINES) -> bytes:
    """A poor scan of one page, as PNG (OCR reads it with low confidence)."""
    return png_bytes(noisy_image(lines))


def scan_pdf(*pages: Sequence[str]) -> bytes:
    """An image-only PDF (no text layer): one scanned page per `pages` item."""
    images = [page_image(lines) for lines in (pages or (W2_LINES,))]
    buffer = io.BytesIO()
    images[0].save(
        buffer, "PDF", resolution=DPI, save_all=True, append_images=images[1:]
    )
    return buffer.getvalue()


def scan_tiff(*pages: Sequence[str]) -> bytes:
    """A multi-page TIFF, as fax machines and some scanners write."""
    images = [page_image(lines) for lines in (pages or (W2_LINES,))]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        "TIFF",
        dpi=(DPI, DPI),
        compression="tiff_deflate",
        save_all=True,
        append_images=images[1:],
    )
    return buffer.getvalue()


def photo_png(lines: Sequence[str] = RECEIPT_LINES) -> bytes:
    """A phone photo of a narrow till receipt: paper on a dark table, tilted."""
    receipt = page_image(lines, size=(900, 1100), font_px=38)
    receipt = receipt.point(lambda v: 30 + (v * 215) // 255)  # slightly grey paper
    photo = Image.new("L", (1300, 1500), 70)
    photo.paste(receipt, (200, 200))
    photo = photo.rotate(1.5, resample=Image.Resampling.BICUBIC, fillcolor=70)
    return png_bytes(photo.filter(ImageFilter.GaussianBlur(radius=0.6)).convert("RGB"))


def turned_photo_jpeg(lines: Sequence[str] = RECEIPT_LINES) -> bytes:
    """A phone photo stored sideways with an EXIF orientation (6: turn 90° to the
    right to show it), as phones save pictures taken in portrait."""
    stored = page_image(lines, size=(1100, 1000)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    buffer = io.BytesIO()
    stored.convert("RGB").save(buffer, "JPEG", exif=exif, quality=90)
    return buffer.getvalue()


# Hand-written PDFs ----------------------------------------------------------------


def _escape(text: str) -> bytes:
    raw = text.encode("latin-1", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content_stream(lines: Sequence[str]) -> bytes:
    """Helvetica 12 pt on a Letter page (612 x 792 points), one line per row."""
    ops = [b"BT", b"/F1 12 Tf", b"14 TL", b"72 720 Td"]
    for line in lines:
        ops.append(b"(" + _escape(line) + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def _pdf_file(objects: list[bytes], *, trailer_extra: bytes = b"") -> bytes:
    """A PDF 1.7 file from numbered object bodies (object n is objects[n-1])."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (
        b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1)
        + trailer_extra
        + b">>\nstartxref\n%d\n%%%%EOF\n" % xref
    )
    return bytes(out)


def _text_pdf_objects(pages: Sequence[Sequence[str]], *, encrypt=None) -> list[bytes]:
    """Catalog, page tree, font, then a page and its content stream per page.

    `encrypt(object_number, data)` encrypts a stream's bytes when given.
    """
    first_page = 4
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
        b" /Encoding /WinAnsiEncoding >>",
    ]
    for i, lines in enumerate(pages):
        page_number = first_page + 2 * i
        stream = zlib.compress(_content_stream(lines))
        if encrypt is not None:
            stream = encrypt(page_number + 1, stream)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (page_number + 1)
        )
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream"
        )
    return objects


def text_layer_pdf(*pages: Sequence[str]) -> bytes:
    """A PDF with a real text layer (as accounting software prints to PDF)."""
    return _pdf_file(_text_pdf_objects(pages or (BANK_STATEMENT_LINES,)))


# The standard security handler, revision 2 (40-bit RC4): PDF 1.7 section 7.6.3.
DEMO_PDF_PASSWORD = "client-secret"  # noqa: S105  (a made-up test document)
_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    box = list(range(256))
    j = 0
    for i in range(256):
        j = (j + box[i] + key[i % len(key)]) % 256
        box[i], box[j] = box[j], box[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + box[i]) % 256
        box[i], box[j] = box[j], box[i]
        out.append(byte ^ box[(box[i] + box[j]) % 256])
    return bytes(out)


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def encrypted_pdf(
    *pages: Sequence[str], user_password: str = DEMO_PDF_PASSWORD
) -> bytes:
    """A text-layer PDF that opens only with `user_password` (RC4, 40-bit)."""
    user = (user_password.encode("latin-1") + _PAD)[:32]
    owner = (b"firm-owner-" + user_password.encode("latin-1") + _PAD)[:32]
    permissions = -3904  # print and copy allowed; the reader still needs the password
    file_id = _md5(b"advisoros-demo-encrypted")
    o_entry = _rc4(_md5(owner)[:5], user)
    key = _md5(
        user + o_entry + permissions.to_bytes(4, "little", signed=True) + file_id
    )[:5]
    u_entry = _rc4(key, _PAD)

    def encrypt(number: int, data: bytes) -> bytes:
        object_key = _md5(key + number.to_bytes(3, "little") + b"\x00\x00")[:10]
        return _rc4(object_key, data)

    objects = _text_pdf_objects(pages or (W2_LINES,), encrypt=encrypt)
    objects.append(
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (o_entry.hex().encode(), u_entry.hex().encode(), permissions)
    )
    trailer = b"/Encrypt %d 0 R /ID [<%s> <%s>] " % (
        len(objects),
        file_id.hex().encode(),
        file_id.hex().encode(),
    )
    return _pdf_file(objects, trailer_extra=trailer)


def broken_pdf() -> bytes:
    """A PDF header over a body cut short and garbage: no reader can open it."""
    whole = text_layer_pdf()
    return whole[: len(whole) // 3] + b"\x00\x17garbage\xff" * 40


def workbook_xlsx() -> bytes:
    """The smallest spreadsheet libmagic calls an Excel workbook (OCR skips it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/></Types>',
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


# Demo documents -------------------------------------------------------------------


@dataclass(frozen=True)
class DemoFile:
    filename: str
    title: str
    content: bytes


def demo_files() -> list[DemoFile]:
    """A small set for the demo firm: a W-2 scan, a 1099 image-only PDF, a bank
    statement with a text layer and a photographed receipt."""
    return [
        DemoFile("w2-2025-scan.png", "W-2 2025 (scan)", scan_png(W2_LINES)),
        DemoFile("1099-int-2025.pdf", "1099-INT 2025", scan_pdf(FORM_1099_LINES)),
        DemoFile(
            "bank-statement-2025-01.pdf",
            "Bank statement January 2025",
            text_layer_pdf(BANK_STATEMENT_LINES),
        ),
        DemoFile("receipt-office-supply.png", "Office supply receipt", photo_png()),
    ]
