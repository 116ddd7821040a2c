"""Reading the text of a file: PDF text layers, tesseract for scans and images.

Pure functions over a local file; no database. `documents.services.ocr` runs them
for a document and records the outcome.

- A PDF page with a text layer (accounting software, "print to PDF", scanners
  that OCR themselves) gives its text directly, with confidence 1.0.
- A PDF page without one is rendered at 300 dpi in greyscale (pypdfium2) and
  read by tesseract.
- An image goes to tesseract as it is (tesseract reads the original file, so a
  page costs what the `tesseract` command costs); a multi-frame TIFF or GIF one
  frame at a time; a phone photo turned upright by its EXIF orientation first.
- Plain text and CSV are their own text (confidence 1.0). Office documents and
  anything else are skipped: they carry their text in a form search could read
  later, but not by OCR.

Tesseract runs once per page (`image_to_data`, which gives both the words and
their confidences; the text is rebuilt from its words and lines), with
`OMP_THREAD_LIMIT=1` (three times faster than tesseract's own threading on two
cores) and a timeout that kills a stuck process.

The text of a document is its pages' texts, each ending with a form feed
("\\f", as pdftotext and tesseract write it), so a reader can split it by page.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytesseract
from PIL import ExifTags, Image, ImageOps, ImageSequence, UnidentifiedImageError

from documents import content_checks

PAGE_BREAK = "\f"
RENDER_DPI = 300
# A page with fewer characters than this in its text layer is treated as a scan
# (scanners often put a stray page number or a few garbage glyphs there).
MIN_TEXT_LAYER_CHARS = 20
# Pages are rendered at 300 dpi up to this many pixels (a 17 x 22 inch page);
# a poster-sized page is rendered smaller rather than eating the worker's memory.
MAX_RENDER_PIXELS = 5100 * 6600
# The same bounds as at upload (documents.content_checks), for files stored
# before those checks existed: nothing past them is decoded or rendered.
MAX_IMAGE_PIXELS = content_checks.MAX_IMAGE_PIXELS
MAX_IMAGE_SIDE = content_checks.MAX_IMAGE_SIDE
MAX_PDF_PAGES = content_checks.MAX_PDF_PAGES
# pdfium cannot be interrupted mid-page; a page whose rendering took longer than
# this (a crafted page of millions of vector paths) ends the document's OCR.
MAX_RENDER_SECONDS = 20.0
# Plain text and CSV files: this much is read as the document's text.
MAX_TEXT_FILE_BYTES = 5 * 1024 * 1024

PDF_TYPES = frozenset({"application/pdf"})
IMAGE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/tiff",
        "image/gif",
        "image/bmp",
        "image/webp",
        "image/x-portable-pixmap",
    }
)
TEXT_TYPES = frozenset({"text/plain", "text/csv"})
# Formats tesseract (leptonica) reads directly from the original file.
_TESSERACT_READS = frozenset({"PNG", "JPEG", "TIFF", "BMP", "GIF", "WEBP", "PPM"})

MESSAGE_ENCRYPTED = (
    "The PDF is password-protected, so its text cannot be read. Ask the client "
    "for a copy without a password."
)
MESSAGE_DAMAGED = (
    "The PDF is damaged and cannot be opened. Ask the client to export or scan "
    "it again."
)
MESSAGE_IMAGE = "The image cannot be read: the file is damaged or not an image."
MESSAGE_TOO_BIG = (
    f"The image is too large to read (over {MAX_IMAGE_PIXELS // 1_000_000}"
    f" megapixels or {MAX_IMAGE_SIDE:,} pixels a side)."
)
MESSAGE_TOO_MANY_PAGES = (
    f"The PDF has more than {MAX_PDF_PAGES:,} pages: too many to read. Split it"
    " into smaller files."
)
MESSAGE_NO_ENGINE = (
    "The text of this scan could not be read: the OCR program (tesseract) is not "
    "installed on the server. An administrator can install it (`make doctor` says "
    "how); then press Try again."
)


class OcrError(Exception):
    """Reading failed. `transient` failures (a timeout, the system) may succeed
    on a later attempt; the others never will."""

    transient = False

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class OcrTransientError(OcrError):
    transient = True


@dataclass(frozen=True)
class PageText:
    number: int  # from 1
    text: str
    words: int  # words with a confidence
    confidence_sum: float  # sum of those words' confidences, each 0..1
    from_text_layer: bool = False


def file_kind(mime_type: str) -> str | None:
    """ "pdf", "image", "text", or None for a type OCR does not read."""
    mime_type = mime_type.split(";")[0].strip().lower()
    if mime_type in PDF_TYPES:
        return "pdf"
    if mime_type in IMAGE_TYPES:
        return "image"
    if mime_type in TEXT_TYPES:
        return "text"
    return None


def page_count(path: Path, kind: str) -> int:
    if kind == "pdf":
        with _open_pdf(path) as pdf:
            return len(pdf)
    if kind == "image":
        with _open_image(path) as image:
            return getattr(image, "n_frames", 1)
    return 1


def read_pages(
    path: Path, kind: str, *, start: int = 0, timeout: float = 30
) -> Iterator[PageText]:
    """The pages of the file from page `start + 1`, read one at a time.

    Raises OcrError. `timeout` bounds each tesseract run, in seconds.
    """
    if kind == "pdf":
        yield from _pdf_pages(path, start=start, timeout=timeout)
    elif kind == "image":
        yield from _image_pages(path, start=start, timeout=timeout)
    elif kind == "text":
        if start == 0:
            yield _text_file(path)
    else:
        raise ValueError(f"OCR does not read files of kind {kind!r}")


# PDF ------------------------------------------------------------------------------


@contextmanager
def _open_pdf(path: Path) -> Iterator[pdfium.PdfDocument]:
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise OcrError(MESSAGE_ENCRYPTED) from exc
        raise OcrError(MESSAGE_DAMAGED) from exc
    try:
        yield pdf
    finally:
        pdf.close()


def _pdf_pages(path: Path, *, start: int, timeout: float) -> Iterator[PageText]:
    with _open_pdf(path) as pdf, tempfile.TemporaryDirectory() as scratch:
        if len(pdf) > MAX_PDF_PAGES:
            raise OcrError(MESSAGE_TOO_MANY_PAGES)
        for index in range(start, len(pdf)):
            try:
                page = pdf[index]
            except pdfium.PdfiumError as exc:
                raise OcrError(MESSAGE_DAMAGED) from exc
            try:
                text = _text_layer(page)
                if text is None:
                    image_path = Path(scratch) / "page.pgm"
                    began = time.monotonic()
                    _render(page).save(image_path)
                    if time.monotonic() - began > MAX_RENDER_SECONDS:
                        raise OcrError(
                            f"Page {index + 1} took over {MAX_RENDER_SECONDS:g}"
                            " seconds to render: the PDF is too complex to read."
                        )
            except pdfium.PdfiumError as exc:
                raise OcrError(MESSAGE_DAMAGED) from exc
            finally:
                page.close()
            if text is not None:
                words = len(text.split())
                yield PageText(index + 1, text, words, float(words), True)
                continue
            yield _tesseract(image_path, index + 1, timeout=timeout)


def _text_layer(page: pdfium.PdfPage) -> str | None:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_bounded()
    finally:
        textpage.close()
    text = text.replace("\r\n", "\n").replace(PAGE_BREAK, "\n").strip()
    if sum(not c.isspace() for c in text) < MIN_TEXT_LAYER_CHARS:
        return None
    return text


def _render(page: pdfium.PdfPage) -> Image.Image:
    width, height = page.get_size()  # points
    scale = RENDER_DPI / 72
    pixels = width * scale * height * scale
    if pixels > MAX_RENDER_PIXELS:
        scale *= (MAX_RENDER_PIXELS / pixels) ** 0.5
    return page.render(scale=scale, grayscale=True).to_pil()


# Images ---------------------------------------------------------------------------


@contextmanager
def _open_image(path: Path) -> Iterator[Image.Image]:
    try:
        image = Image.open(path)  # the header only: nothing decoded yet
    except Image.DecompressionBombError as exc:
        raise OcrError(MESSAGE_TOO_BIG) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise OcrError(MESSAGE_IMAGE) from exc
    with image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
            raise OcrError(MESSAGE_TOO_BIG)
        yield image


def _image_pages(path: Path, *, start: int, timeout: float) -> Iterator[PageText]:
    with ExitStack() as stack:
        image = stack.enter_context(_open_image(path))
        frames = getattr(image, "n_frames", 1)
        turned = frames == 1 and image.getexif().get(ExifTags.Base.Orientation, 1) > 1
        if frames == 1 and not turned and image.format in _TESSERACT_READS:
            # The original file, as it is: no decoding or re-encoding here.
            if start == 0:
                yield _tesseract(path, 1, timeout=timeout)
            return
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        try:
            pages = [ImageOps.exif_transpose(image)] if turned else None
        except OSError as exc:  # truncated
            raise OcrError(MESSAGE_IMAGE) from exc
        for index, frame in enumerate(pages or ImageSequence.Iterator(image)):
            if index < start:
                continue
            frame_path = scratch / "frame.png"
            try:
                _flat(frame).save(frame_path, compress_level=1)
            except OSError as exc:  # a truncated frame
                raise OcrError(MESSAGE_IMAGE) from exc
            yield _tesseract(frame_path, index + 1, timeout=timeout)


def _flat(frame: Image.Image) -> Image.Image:
    """The frame in a mode PNG holds, transparency on white paper."""
    if frame.mode in ("L", "RGB", "1"):
        return frame.copy()
    rgba = frame.convert("RGBA")
    paper = Image.new("RGB", rgba.size, (255, 255, 255))
    paper.paste(rgba, mask=rgba.getchannel("A"))
    return paper


# Text files -----------------------------------------------------------------------


def _text_file(path: Path) -> PageText:
    with open(path, "rb") as handle:
        raw = handle.read(MAX_TEXT_FILE_BYTES)
    text = raw.decode("utf-8", errors="replace").replace(PAGE_BREAK, "\n").strip()
    words = len(text.split())
    return PageText(1, text, words, float(words), True)


# Tesseract ------------------------------------------------------------------------


def _tesseract(image_path: Path, number: int, *, timeout: float) -> PageText:
    # pytesseract runs the `tesseract` binary with os.environ: one thread each.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        data = pytesseract.image_to_data(
            str(image_path),
            lang="eng",
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    except RuntimeError as exc:  # pytesseract's "Tesseract process timeout"
        raise OcrTransientError(
            f"Reading page {number} took longer than {timeout:g} seconds."
        ) from exc
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrTransientError(MESSAGE_NO_ENGINE) from exc
    except pytesseract.TesseractError as exc:
        raise OcrError(f"Tesseract could not read page {number}: {exc}") from exc
    return page_from_data(data, number)


def page_from_data(data: dict[str, list], number: int) -> PageText:
    """The page's text and confidence from one `image_to_data` result: words
    joined by spaces, lines by newlines, blocks and paragraphs by a blank line."""
    lines: list[str] = []
    current_key: tuple | None = None
    current: list[str] = []
    words = 0
    confidence_sum = 0.0
    rows = zip(
        data["block_num"],
        data["par_num"],
        data["line_num"],
        data["conf"],
        data["text"],
        strict=True,
    )
    for block, paragraph, line, conf, word in rows:
        word = (word or "").strip()
        conf = float(conf)
        if not word or conf < 0:
            continue
        words += 1
        confidence_sum += conf / 100
        key = (block, paragraph, line)
        if key != current_key:
            if current:
                lines.append(" ".join(current))
            if current_key is not None and key[:2] != current_key[:2]:
                lines.append("")
            current_key, current = key, []
        current.append(word)
    if current:
        lines.append(" ".join(current))
    return PageText(number, "\n".join(lines), words, confidence_sum)
