"""The image studio's engine: batch image operations on bytes, with no database or storage.

    items = iter_inputs(uploads, max_items=500)            # zips expanded, bad files flagged
    for key, result in map_images(work, parse_spec(raw)):  # a process pool, flat memory
        ...                                                # list[OutputFile] or UserFacingError

`process_image` runs the same pipeline in the calling process. The job queue (jobs.py), the
REST API and `jsoncraft ops` all go through these names.
"""

from app.services.studio.imageops.inputs import InputItem, iter_inputs
from app.services.studio.imageops.outputs import OutputFile
from app.services.studio.imageops.pipeline import process_image
from app.services.studio.imageops.pool import map_images
from app.services.studio.imageops.spec import OpsSpec, parse_spec

__all__ = [
    "InputItem",
    "OpsSpec",
    "OutputFile",
    "iter_inputs",
    "map_images",
    "parse_spec",
    "process_image",
]
