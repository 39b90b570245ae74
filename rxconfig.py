"""Reflex configuration. Values come from app/settings.py, the one reader of the environment."""

import reflex as rx

from app.settings import get_settings

_settings = get_settings()

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
