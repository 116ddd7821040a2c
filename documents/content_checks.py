"""What is inside an upload: bounded looks that refuse bombs and macros and find
PDF scripts, without ever extracting or decoding the file.

Run by documents.upload.validate_upload once the file's type is known. Each
check reads headers and directories only:

- Office Open XML (.docx, .xlsx, .pptx) are ZIP archives: the central directory
  is read (never a member's content) and the archive refused when it has too
  many entries, too much declared content, or a member compressed beyond any
  real document's ratio (a zip bomb dressed as a Word file), or when it carries
  macros (vbaProject.bin, a macro-enabled content type).
- Legacy Office files (.doc, .xls: OLE2 compound files) are refused when their
  directory holds a VBA project (`_VBA_PROJECT`, `VBA`, `Macros` storages).
- Images: the header's width and height, refused past MAX_IMAGE_PIXELS or
  MAX_IMAGE_SIDE (a pixel bomb: a small PNG that decodes to gigabytes).
- PDFs: the page count (pdfium reads the page tree), refused past
  MAX_PDF_PAGES; and whether it carries JavaScript or automatic actions
  (`/JS`, `/JavaScript`, `/AA`, `/OpenAction`, `/Launch`), which makes it
  download-only (documents.storage never shows it in the browser).

Nothing here decompresses a stream except pypdf's object streams, inside a time
budget; a PDF that cannot be walked in time is taken as scripted.
"""

from __future__ import annotations

import os
import time
import warnings
import zipfile

import olefile
import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError

# Office Open XML: far above any real document (a 300-page Word file with
# pictures has a few hundred entries and tens of MB), far below a bomb.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_UNCOMPRESSED = 512 * 1024 * 1024
MAX_ZIP_RATIO = 100  # XML compresses about 5-20 times; a bomb 1,000 times and more
ZIP_RATIO_FROM = 1024 * 1024  # small members may compress well without harm
MACRO_PARTS = ("vbaproject.bin", "vbadata.xml", "activex")
# Images: 50 megapixels is a 8,660 x 5,770 photo, beyond any phone or scanner
# at 600 dpi on A4 (about 35 megapixels); a side past 20,000 px is a strip bomb.
MAX_IMAGE_PIXELS = 50_000_000
MAX_IMAGE_SIDE = 20_000
# PDFs: a year of bank statements is a few hundred pages.
MAX_PDF_PAGES = 2_000
PDF_WALK_SECONDS = 0.5
PDF_WALK_OBJECTS = 200_000
_PDF_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/AA", "/Launch"})
_PDF_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch"})
OLE_MACRO_NAMES = frozenset({"_vba_project", "_vba_project_cur", "vba", "macros"})

IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/tiff", "image/gif", "image/webp"}
)
OLE_TYPES = frozenset(
    {
        "application/msword",
        "application/vnd.ms-excel",
        "application/x-ole-storage",
        "application/CDFV2",
    }
)


class ContentRefused(Exception):
    """Why the content cannot be kept: completes "<name> was not accepted: ..."."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_ooxml(path: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ContentRefused("it is a damaged Office file.") from exc
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ContentRefused(
            f"it holds {len(entries):,} parts; an Office file has at most"
            f" {MAX_ZIP_ENTRIES:,}."
        )
    total = sum(e.file_size for e in entries)
    if total > MAX_ZIP_UNCOMPRESSED:
        raise ContentRefused(
            "it would unpack to more than"
            f" {MAX_ZIP_UNCOMPRESSED // (1024 * 1024)} MB (a compression bomb)."
        )
    for entry in entries:
        if entry.file_size > ZIP_RATIO_FROM and entry.file_size > MAX_ZIP_RATIO * max(
            entry.compress_size, 1
        ):
            raise ContentRefused(
                "a part of it is compressed more than a real document can be"
                " (a compression bomb)."
            )
        name = entry.filename.lower()
        if any(part in name for part in MACRO_PARTS):
            raise ContentRefused(_MACROS)


_MACROS = (
    "it contains macros, which can run programs on the computer that opens it."
    " Save it without macros (as .docx or .xlsx) or as a PDF, and upload that."
)


def check_ole(path: str) -> None:
    try:
        with olefile.OleFileIO(path) as ole:
            names = ole.listdir(streams=True, storages=True)
    except OSError:
        return  # libmagic's OLE that olefile cannot read: nothing opens it as macros
    for parts in names:
        if any(part.lower() in OLE_MACRO_NAMES for part in parts):
            raise ContentRefused(_MACROS)


def check_image(path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:  # reads the header only
                width, height = image.size
        except Image.DecompressionBombError as exc:
            raise ContentRefused(_image_too_large()) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return  # not decodable: nothing will decode it (OCR says so)
    if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
        raise ContentRefused(_image_too_large(width, height))


def _image_too_large(width: int = 0, height: int = 0) -> str:
    size = f" ({width:,} x {height:,} pixels)" if width else ""
    return (
        f"the image is too large{size}: at most {MAX_IMAGE_PIXELS // 1_000_000}"
        f" megapixels and {MAX_IMAGE_SIDE:,} pixels a side. Scan or export it"
        " smaller."
    )


def check_pdf(path: str) -> bool:
    """Refuse a PDF past the page limit; True when it carries scripts or
    automatic actions (then it is never shown in the browser).

    A PDF without a cross-reference table at its end is damaged: readers then
    rebuild it by scanning the whole file (pdfium: most of a second for 10 MB),
    which an upload request must not pay. It is kept as it is (OCR, in a job,
    says whether it can be read) and never shown in the browser."""
    with open(path, "rb") as handle:
        handle.seek(max(0, os.path.getsize(path) - 1024))
        if b"startxref" not in handle.read():
            return True
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError:
        # Damaged or password-protected: kept (OCR says which), never inline.
        return True
    try:
        pages = len(pdf)
    finally:
        pdf.close()
    if pages > MAX_PDF_PAGES:
        raise ContentRefused(
            f"it has {pages:,} pages; at most {MAX_PDF_PAGES:,} are accepted."
            " Split it into smaller files."
        )
    return pdf_has_scripts(path)


def pdf_has_scripts(path: str) -> bool:
    """Whether any object of the PDF names JavaScript or an automatic action.
    Walks every object through pypdf (names with #xx escapes decoded, object
    streams included) within PDF_WALK_SECONDS; past it, True."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import IndirectObject

    deadline = time.monotonic() + PDF_WALK_SECONDS
    try:
        reader = PdfReader(path, strict=False)
        ids = [
            (number, generation)
            for generation, numbers in reader.xref.items()
            for number in numbers
        ]
        ids += [(number, 0) for number in reader.xref_objStm]
        if len(ids) > PDF_WALK_OBJECTS:
            return True
        for number, generation in ids:
            if time.monotonic() > deadline:
                return True
            if _active(IndirectObject(number, generation, reader).get_object()):
                return True
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, RecursionError):
        return True
    return False


def _active(obj, depth: int = 0) -> bool:
    """Whether a PDF object, or a dictionary or array written inside it, names
    JavaScript or an automatic action (an /OpenAction only when it runs a script
    or a program: opening at a page is harmless). Indirect references are
    visited as objects of their own."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    if depth > 20:
        return True
    if isinstance(obj, DictionaryObject):
        if _PDF_ACTIVE_KEYS & set(obj) or obj.get("/S") in _PDF_ACTIVE_ACTIONS:
            return True
        opening = obj.get("/OpenAction")
        if isinstance(opening, IndirectObject):
            opening = opening.get_object()
        if isinstance(opening, DictionaryObject) and _active(opening, depth + 1):
            return True
        values = obj.values()
    elif isinstance(obj, ArrayObject):
        values = obj
    else:
        return False
    return any(
        _active(value, depth + 1)
        for value in values
        if isinstance(value, DictionaryObject | ArrayObject)
    )


def inspect(path: str, mime: str, *, ooxml: bool) -> bool:
    """Run the checks for `mime`; raises ContentRefused. Returns whether the file
    carries scripts (PDFs only)."""
    if ooxml:
        check_ooxml(path)
    elif mime in OLE_TYPES:
        check_ole(path)
    elif mime in IMAGE_TYPES:
        check_image(path)
    elif mime == "application/pdf":
        return check_pdf(path)
    return False
