"""Command line: `python -m app.cli COMMAND` (also installed as `jsoncraft`).

Commands: migrate, seed, create-admin EMAIL, worker, maintenance, refresh-models, health,
create-api-key EMAIL, create-project EMAIL NAME [--json],
analyze IMAGE... [--save] [--owner EMAIL], export --out FILE [--tag T] [--owner EMAIL],
import FILE [--owner EMAIL],
ops INPUT... --out DIR [--resize N --format webp --quality 80 ...] (see app/cli_ops.py),
generate PROMPT --model ID [--n N] [--seed S] [--aspect W:H] [--preset NAME] [--out DIR]
(see app/cli_generate.py), upload FILE... --key KEY [--api URL] (see app/cli_upload.py),
create-project EMAIL NAME [--json], webhooks replay DELIVERY_ID.
Honours DATABASE_URL and DATA_DIR like the app.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
import threading
from typing import TYPE_CHECKING

from app.cli_generate import add_generate_parser
from app.cli_ops import add_ops_parser
from app.cli_upload import add_upload_parser
from app.services.core.errors import JSONCraftError, UserFacingError

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.services.core.models import User


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def cmd_migrate(_args: argparse.Namespace) -> int:
    from app.services.core.migrations import upgrade_to_head

    upgrade_to_head()
    _out("Database is at the latest migration.")
    return 0


def cmd_seed(_args: argparse.Namespace) -> int:
    from app.services.core.db import session_scope
    from app.services.core.migrations import upgrade_to_head
    from app.services.core.storage import get_storage
    from app.services.demo.seed import seed_demo
    from app.settings import get_settings

    upgrade_to_head()
    with session_scope() as session:
        result = seed_demo(session, storage=get_storage(), email=get_settings().demo_user_email)
    _out(f"Demo data: {result.created} prompts added, {result.existing} already there.")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from app.services.accounts.auth import ensure_admin
    from app.services.core.db import session_scope
    from app.settings import get_settings

    password: str | None
    generated = False
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif (from_settings := get_settings().jsoncraft_admin_password) is not None:
        password = from_settings.get_secret_value()
    elif sys.stdin.isatty():
        password = getpass.getpass("Password for the admin: ")
    else:
        password, generated = secrets.token_urlsafe(18), True
    with session_scope() as session:
        user, created = ensure_admin(session, email=args.email, password=password)
    _out(f"{'Created' if created else 'Promoted'} admin {user.email}.")
    if generated:
        _out(f"Generated password (shown once): {password}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from app.services.analyzer.analysis import run_analysis
    from app.services.analyzer.providers import ImageInput
    from app.services.analyzer.providers.setup import ensure_models
    from app.services.core.migrations import upgrade_to_head
    from app.services.images.intake import sniff_image

    if len(args.images) > 1 or args.save:
        return _analyze_batch(args)
    path = Path(args.images[0])
    if not path.is_file():
        sys.stderr.write(f"error: no such file: {path}\n")
        return 2
    data = path.read_bytes()
    mime = sniff_image(data)  # refuses non-images, bombs and truncated files with a clear message
    upgrade_to_head()
    ensure_models()
    owner_id = _analyze_owner_id(args.owner)

    async def run() -> tuple[dict[str, object] | None, str]:
        result, error = None, "the analysis did not finish"
        async for update in run_analysis(
            kind="describe",
            model_id=args.model,
            user_id=owner_id,
            image=ImageInput(data=data, mime_type=mime),
            instructions=args.instructions,
            use_memory=False,
        ):
            if update.kind == "result":
                result = update.data
            elif update.kind == "error":
                error = update.text
        return result, error

    result, error = asyncio.run(run())
    if result is None:
        sys.stderr.write(f"error: {error}\n")
        return 1
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        _out(text)
    return 0


def _analyze_owner_id(email: str | None) -> int | None:
    """The account --owner names (charged for paid models), or None: nothing is charged."""
    from app.services.analyzer.batch import find_owner_id

    return find_owner_id(email) if email is not None else None


def _demo_owner_email() -> str:
    from app.services.core.db import session_scope

    with session_scope() as session:
        return _bundle_owner(session, None).email


def _analyze_batch(args: argparse.Namespace) -> int:
    """Several images, or --save: one JSON line per image, on past a bad one, exit 1 if any
    failed. Saved prompts carry one tag for the whole run (batch-YYYYMMDD-HHMMSS, UTC)."""
    import asyncio
    from pathlib import Path

    from app.services.analyzer.batch import batch_tag, describe_file
    from app.services.analyzer.providers.setup import ensure_models
    from app.services.core.migrations import upgrade_to_head
    from app.services.core.models import utcnow

    if args.out:
        sys.stderr.write("error: --out takes one image without --save; redirect the lines\n")
        return 2
    upgrade_to_head()
    ensure_models()
    if args.save and not args.owner:
        # The issue's own line (`analyze A.jpg B.jpg --save`) names no account: like export
        # and import, the demo user's gallery gets them.
        args.owner = _demo_owner_email()
    owner_id = _analyze_owner_id(args.owner)
    tag = batch_tag(utcnow()) if args.save else None

    async def run() -> tuple[int, int]:
        saved = failed = 0
        for image in args.images:
            done = await describe_file(
                Path(image),
                model_id=args.model,
                owner_id=owner_id,
                instructions=args.instructions,
                save_tag=tag,
            )
            line: dict[str, object] = {"file": done.file}
            if done.error is not None:
                line["error"] = done.error
                failed += 1
            else:
                if done.prompt_id is not None:
                    line["prompt_id"] = done.prompt_id
                    saved += 1
                line["prompt"] = done.prompt
            _out(json.dumps(line, ensure_ascii=False))
            sys.stdout.flush()  # a line per image as it finishes, not all at the end
        return saved, failed

    saved, failed = asyncio.run(run())
    if tag is not None:
        sys.stderr.write(
            f"Saved {saved} of {len(args.images)} to the gallery of {args.owner}, tagged {tag}.\n"
        )
    return 1 if failed else 0


def cmd_create_api_key(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from app.services.accounts.api_keys import create_key
    from app.services.core.db import session_scope
    from app.services.core.errors import NotFoundError
    from app.services.core.models import User

    with session_scope() as session:
        owner = session.exec(select(User).where(User.email == args.email.strip().lower())).first()
        if owner is None:
            raise NotFoundError(f"No account with the email {args.email}.")
        new = create_key(session, owner=owner, project_name=args.project, name=args.name)
    _out(new.key)
    return 0


def cmd_create_project(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from app.services.accounts.api_keys import issue_key
    from app.services.core.db import session_scope
    from app.services.core.errors import NotFoundError
    from app.services.core.models import User
    from app.services.uploads.projects import create_project

    with session_scope() as session:
        owner = session.exec(select(User).where(User.email == args.email.strip().lower())).first()
        if owner is None:
            raise NotFoundError(f"No account with the email {args.email}.")
        project = create_project(session, owner=owner, name=args.name)
        assert project.id is not None
        new = issue_key(session, project_id=project.id, name="cli")  # every scope
        project_id, name = project.id, project.name
    if args.json:
        _out(json.dumps({"project_id": project_id, "key": new.key}))
    else:
        _out(f"Created project {project_id} ({name}) for {owner.email}.")
        _out(f"Secret key (shown once, scopes upload, read, manage): {new.key}")
    return 0


def _bundle_owner(session: Session, email: str | None) -> User:
    """The account a bundle command acts for: --owner, else the demo user (created if missing)."""
    from sqlmodel import select

    from app.services.core.errors import NotFoundError
    from app.services.core.models import User
    from app.services.demo.seed import ensure_demo_user
    from app.settings import get_settings

    if email is None:
        return ensure_demo_user(session, email=get_settings().demo_user_email)
    owner = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if owner is None:
        raise NotFoundError(f"No account with the email {email}.")
    return owner


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.services.core.db import session_scope
    from app.services.core.migrations import upgrade_to_head
    from app.services.core.storage import get_storage
    from app.services.library.bundles import export_bundle

    upgrade_to_head()
    target = Path(args.out)
    partial = target.with_name(target.name + ".part")
    try:
        # Written beside the target and renamed at the end: a failed export never leaves a
        # half-written file under the name the user asked for.
        with session_scope() as session, partial.open("wb") as out:
            owner = _bundle_owner(session, args.owner)
            result = export_bundle(
                session, storage=get_storage(), owner=owner, out=out, tag=args.tag
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    _out(
        f"Exported {result.item_count} prompts and {result.image_count} images to {target} "
        f"({result.size_bytes:,} bytes)."
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.services.core.db import session_scope
    from app.services.core.migrations import upgrade_to_head
    from app.services.core.storage import get_storage
    from app.services.library.bundles import BundleRejectedError, import_bundle

    path = Path(args.file)
    if not path.is_file():
        sys.stderr.write(f"error: no such file: {path}\n")
        return 2
    upgrade_to_head()
    try:
        with session_scope() as session, path.open("rb") as source:
            owner = _bundle_owner(session, args.owner)
            session.commit()  # the demo owner exists even if the import is refused
            report = import_bundle(
                session, storage=get_storage(), owner=owner, source=source, filename=path.name
            )
    except BundleRejectedError as e:
        sys.stderr.write(f"error: {e.message}\n")
        for error in e.report.errors[:20]:
            title = f" ({error.title})" if error.title else ""
            sys.stderr.write(f"  item {error.index}{title}: {error.message}\n")
        return 2
    _out(
        f"Imported {report.imported}, skipped {report.skipped_duplicates} duplicates "
        f"({report.images_added} new images)."
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from huey.consumer import Consumer

    from app.services.core.db import size_pool_for
    from app.services.core.logs import configure_logging
    from app.services.core.metrics import mark_process_dead
    from app.services.notify.dispatch import start_sweeper as start_email_sweeper
    from app.services.ops.workers import HeartbeatWriter, watch_tasks
    from app.services.studio.imageops.pool import start_fork_server, stop_pools
    from app.services.webhooks.dispatch import start_sweeper
    from app.services.worker.tasks import huey, recover_stale_jobs
    from app.settings import get_settings

    size_pool_for(args.workers)  # before any engine is made: every thread needs connections
    configure_logging(level=get_settings().log_level, json_output=get_settings().log_json)
    # Before anything else starts it: the image pool outlives a stop signal to the group, so
    # images in flight are handed back to the queue, not failed.
    start_fork_server()
    # After the fork server: its children run image code only and need no exporter thread.
    from app.services.core.error_events import setup_error_reporting
    from app.services.core.tracing import setup_tracing

    setup_tracing(get_settings())
    setup_error_reporting(get_settings())
    # Jobs a killed worker left behind run again now, not a minute later at the periodic check.
    recover_stale_jobs()
    # Webhook retries and deliveries a kick missed are queued by a sweep every few seconds.
    stop_sweeping = threading.Event()
    start_sweeper(stop_sweeping)
    start_email_sweeper(stop_sweeping)  # emails likewise
    # /admin/system lists this worker from its heartbeat row (removed again on a clean exit).
    heartbeat = HeartbeatWriter()
    watch_tasks(huey, heartbeat)
    heartbeat.start()
    try:
        # An idle worker polls at least every second, so a "now" job starts within a second.
        Consumer(
            huey,
            workers=args.workers,
            worker_type="thread",
            periodic=not args.no_periodic,
            max_delay=1.0,
        ).run()
    finally:
        heartbeat.stop()
    stop_sweeping.set()
    # Stopped, its jobs handed back to the queue: don't wait at exit for their images in flight.
    stop_pools()
    # Its counters stay in the shared metrics folder (totals must not drop); only its live
    # values are let go.
    mark_process_dead()
    return 0


def cmd_maintenance(_args: argparse.Namespace) -> int:
    from app.services.worker.tasks import run_maintenance

    _out(json.dumps(run_maintenance()))
    return 0


def cmd_refresh_models(_args: argparse.Namespace) -> int:
    from app.services.analyzer.catalogue.refresh import refresh_all
    from app.services.core.migrations import upgrade_to_head
    from app.settings import get_settings

    upgrade_to_head()
    results = refresh_all(get_settings())
    _out(json.dumps([{"source": r.source, "listed": r.listed, "error": r.error} for r in results]))
    return 1 if any(r.error for r in results) else 0


def cmd_health(_args: argparse.Namespace) -> int:
    from app.services.core.health import check_health

    report = check_health()
    _out(json.dumps(report.as_dict(), indent=2))
    return 0 if report.ok else 1


def cmd_webhooks_replay(args: argparse.Namespace) -> int:
    from app.services.core.db import session_scope
    from app.services.webhooks.deliveries import replay_delivery

    with session_scope() as session:
        url = replay_delivery(session, delivery_id=args.delivery_id)
    _out(f"queued a replay of {args.delivery_id.strip()} to {url}")
    return 0


def _add_webhooks_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhooks = sub.add_parser("webhooks", help="webhook deliveries")
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True)
    replay = actions.add_parser(
        "replay", help="send a delivery again (same webhook-id and body), through the queue"
    )
    replay.add_argument("delivery_id", help="the delivery's id (msg_...), its webhook-id")
    replay.set_defaults(func=cmd_webhooks_replay)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jsoncraft", description="JSONCraft command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="add the demo gallery (idempotent)").set_defaults(func=cmd_seed)
    admin = sub.add_parser("create-admin", help="create an admin or promote an account")
    admin.add_argument("email")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin.set_defaults(func=cmd_create_admin)
    worker = sub.add_parser("worker", help="run the job worker")
    worker.add_argument("--workers", type=int, default=2)
    worker.add_argument(
        "--no-periodic",
        action="store_true",
        help="run queued jobs only, not the clock-driven maintenance and recovery "
        "(for all but one of several workers)",
    )
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("maintenance", help="run maintenance once").set_defaults(func=cmd_maintenance)
    sub.add_parser(
        "refresh-models", help="fetch the provider model catalogues now (OpenRouter's /models)"
    ).set_defaults(func=cmd_refresh_models)
    analyze = sub.add_parser(
        "analyze",
        help="print the JSON prompt for an image; for several, one JSON line each "
        "(--save: into an account's gallery)",
    )
    analyze.add_argument("images", nargs="+", metavar="IMAGE")
    analyze.add_argument("--model", default="local", help="model id or alias (default: offline)")
    analyze.add_argument("--instructions", default="", help="extra instructions for the model")
    analyze.add_argument("--out", help="write the JSON here instead of stdout (one image)")
    analyze.add_argument("--save", action="store_true", help="save each prompt to the gallery")
    analyze.add_argument(
        "--owner",
        help="account email: charged for paid models, owns saves (default with --save: the demo "
        "user)",
    )
    analyze.set_defaults(func=cmd_analyze)
    key = sub.add_parser("create-api-key", help="create an API key for an account (printed once)")
    key.add_argument("email")
    key.add_argument("--project", default="Default")
    key.add_argument("--name", default="cli")
    key.set_defaults(func=cmd_create_api_key)
    project = sub.add_parser(
        "create-project", help="create an upload project with a full-scope key (printed once)"
    )
    project.add_argument("email")
    project.add_argument("name")
    project.add_argument("--json", action="store_true", help='print {"project_id", "key"}')
    project.set_defaults(func=cmd_create_project)
    export = sub.add_parser("export", help="write prompts to a bundle (zip)")
    export.add_argument("--out", required=True, help="the .zip file to write")
    export.add_argument("--tag", help="only prompts with this tag")
    export.add_argument("--owner", help="account email (default: the demo user)")
    export.set_defaults(func=cmd_export)
    imp = sub.add_parser("import", help="import a bundle (zip): all of it, or nothing")
    imp.add_argument("file")
    imp.add_argument("--owner", help="account email (default: the demo user)")
    imp.set_defaults(func=cmd_import)
    sub.add_parser("health", help="check database, storage, queue").set_defaults(func=cmd_health)
    add_ops_parser(sub)
    add_generate_parser(sub)
    _add_webhooks_parser(sub)
    add_upload_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    from app.settings import get_settings

    args = build_parser().parse_args(argv)
    try:
        get_settings()  # refuse bad settings (a placeholder SECRET_KEY in production) up front
    except ValidationError as e:
        reasons = "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors())
        sys.stderr.write(f"error: invalid settings: {reasons}\n")
        return 2
    try:
        return int(args.func(args))
    except UserFacingError as e:
        sys.stderr.write(f"error: {e.message}\n")
        return 2
    except JSONCraftError as e:
        sys.stderr.write(f"error: {type(e).__name__}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
