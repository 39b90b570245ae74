"""Reflex configuration. Values come from app/settings.py, the one reader of the environment."""

import os

import reflex as rx

from app.settings import get_settings

_settings = get_settings()

# In dev mode Reflex's backend reloads on any change under every non-hidden folder of the project,
# and that includes the data folder, where SQLite's WAL files change each time the job worker polls
# or an upload lands. Only the code can change what the backend runs, so only the code is watched.
os.environ.setdefault("REFLEX_HOT_RELOAD_OVERRIDE_PATHS", "app:assets")

config = rx.Config(
    app_name="app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    api_url=_settings.api_url,
    deploy_url=_settings.app_url,
    redis_url=_settings.redis_url,
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                accent_color="violet", gray_color="slate", radius="large", scaling="100%"
            )
        ),
    ],
)
