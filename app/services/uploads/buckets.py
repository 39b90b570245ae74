"""Which store a project's files live in."""

from __future__ import annotations

from app.services.core.models import Project
from app.services.core.storage import Storage, get_storage


def storage_for_project(project: Project) -> Storage:
    """The project's storage. Every upload-platform module reaches objects through here, so a
    project with a bucket of its own (bucket_* columns) is served from that bucket."""
    del project  # only the app's storage until custom buckets are read here
    return get_storage()
