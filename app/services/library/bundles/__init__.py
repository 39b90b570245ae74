"""Import and export of prompt bundles: a whole library (or a tag of it) in one zip file.

Bundle format, version 1
========================

A bundle is a zip archive holding three kinds of file::

    manifest.json                 what the bundle is and what it holds
    prompts/<n>.json              one prompt with its full version history, n = 1, 2, 3…
    images/<sha256>.<ext>         the source images, named by the SHA-256 of their bytes

`manifest.json`::

    {
      "format": "jsoncraft-bundle",        always this string
      "version": 1,                        the bundle format version (this document)
      "created_at": "2025-01-31T12:00:00+00:00",
      "generator": "JSONCraft 0.1.0",      informative
      "prompt_schema": "1.0",              the prompt schema version of the data inside
      "items": [
        {"path": "prompts/1.json", "title": "Lighthouse at dusk",
         "image": "images/9f86d0….png"},   image is null when the prompt has none
        …
      ]
    }

`prompts/<n>.json`::

    {
      "title": "Lighthouse at dusk",
      "tags": ["sea", "dusk"],
      "visibility": "private",             "private" or "public"
      "model": "local/demo",               optional: what made the first version
      "style": "photograph",               optional
      "versions": [                        oldest first; at least one
        {"number": 1, "data": {…a JSON prompt…}, "message": "Created",
         "created_at": "2025-01-30T09:00:00+00:00"},
        …
      ],
      "image": "images/9f86d0….png"        or null
    }

Each version's `data` must validate against the prompt schema (`jsoncraft-prompt.schema.json`).
An image file's name is the SHA-256 of its bytes, so an image shared by several prompts is
stored once, and a damaged image is caught by its checksum.

Reading rules (`import_bundle`)
-------------------------------
* Nothing is extracted before the archive's directory has been checked: paths with `..`,
  absolute paths, drive letters, backslashes, symbolic links, encrypted entries and duplicate
  names are refused; so are archives over `MAX_ENTRIES` files or `MAX_TOTAL_BYTES` unpacked,
  entries over their size cap, and large entries compressed more than `MAX_RATIO`:1 (zip bombs).
* Every item is validated before anything is written (titles, tags, visibility, every version
  against the schema, each image's checksum and that it decodes as a JPEG, PNG, WebP or GIF
  within the pixel limit). Any invalid item rejects the whole bundle, with a message per item.
* A prompt whose image and latest data match a prompt the owner already has is skipped as a
  duplicate; images are stored once per content hash.
* Import is all-or-nothing: one database transaction, and if it fails, the image files it wrote
  are removed again (unless another image record still points at them).
* Version numbers are renumbered 1…n in the order given; their messages and dates are kept.

Files other than these three kinds are ignored. Readers must refuse a `version` they do not know.
"""

from app.services.library.bundles.export import export_bundle
from app.services.library.bundles.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_ENTRIES,
    MAX_TOTAL_BYTES,
    BundleInfo,
    BundleRejectedError,
    ExportResult,
    ImportReport,
    ItemError,
    ItemRef,
)
from app.services.library.bundles.importer import import_bundle
from app.services.library.bundles.listing import get_bundle, list_bundles

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_ENTRIES",
    "MAX_TOTAL_BYTES",
    "BundleInfo",
    "BundleRejectedError",
    "ExportResult",
    "ImportReport",
    "ItemError",
    "ItemRef",
    "export_bundle",
    "get_bundle",
    "import_bundle",
    "list_bundles",
]
