"""Everything a person does to a saved prompt, each call checked on the server.

Modules: marks (favourite, rating, visibility, title), sharing, trash, bulk (tags, duplicate),
versions, detail (the prompt page), views (what they return), common (shared helpers).

Who may do what (the rules themselves live in library/access.py):

- view (detail, versions, duplicate, similar): public prompts, your own; admins everything.
- edit (save_version, revert, rename, bulk_tag): owners their own prompts, editors any *public*
  prompt, admins all.
- manage (favourite, rating, visibility, share links, trash, restore, purge): owners and admins.

A prompt the viewer may not see is NotFoundError (ids reveal nothing); one they may see but not
change is PermissionDeniedError. Bulk calls are all-or-nothing: every id is checked before
anything is written.

Versions are immutable and saves are optimistic: `save_version` names the version it was based
on, and if someone saved in between it raises VersionConflictError carrying the server's latest
version instead of overwriting it. On PostgreSQL the prompt row is locked (SELECT ... FOR UPDATE)
while checking, so two simultaneous saves can't both pass; SQLite has a single writer anyway,
and the unique (prompt_id, number) constraint is the last guard on both.
"""

from app.services.library.prompt_ops.bulk import bulk_tag, duplicate
from app.services.library.prompt_ops.detail import get_prompt_detail
from app.services.library.prompt_ops.marks import rename, set_favorite, set_rating, set_visibility
from app.services.library.prompt_ops.sharing import create_share_link, get_shared, revoke_share_link
from app.services.library.prompt_ops.trash import purge_trash, restore, trash
from app.services.library.prompt_ops.versions import (
    get_version,
    list_versions,
    revert,
    save_version,
)
from app.services.library.prompt_ops.views import (
    AnalysisView,
    PromptDetail,
    SharedPrompt,
    VersionSummary,
    VersionView,
)

__all__ = [
    "AnalysisView",
    "PromptDetail",
    "SharedPrompt",
    "VersionSummary",
    "VersionView",
    "bulk_tag",
    "create_share_link",
    "duplicate",
    "get_prompt_detail",
    "get_shared",
    "get_version",
    "list_versions",
    "purge_trash",
    "rename",
    "restore",
    "revert",
    "revoke_share_link",
    "save_version",
    "set_favorite",
    "set_rating",
    "set_visibility",
    "trash",
]
