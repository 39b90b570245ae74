"""The Reflex app: pages and the REST API. Nothing else lives here."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.api import create_api
from app.api.threads import size_database_pool, thread_limit_lifespan
from app.components.post_form import QUERY_FIELDS_SCRIPT
from app.pages.account import account_page
from app.pages.admin import admin_page
from app.pages.admin_system import admin_system_page
from app.pages.analyzer import analyzer_page
from app.pages.auth import login_page, signup_page
from app.pages.credits import credits_page
from app.pages.dashboard import dashboard_page
from app.pages.docs_uploads import docs_uploads_page
from app.pages.gallery import gallery_page
from app.pages.generate import generate_page
from app.pages.loras import loras_page
from app.pages.not_found import not_found_page
from app.pages.pricing import pricing_page
from app.pages.project_storage import project_storage_page
from app.pages.project_uploads import project_uploads_page
from app.pages.project_webhooks import project_webhooks_page
from app.pages.projects import projects_page
from app.pages.projects_overview import project_overview_page
from app.pages.prompt import prompt_page
from app.pages.share import share_page
from app.pages.studio import studio_page
from app.pages.unsubscribe import unsubscribe_page
from app.services.analyzer.providers.setup import ensure_models
from app.services.core.error_events import setup_error_reporting
from app.services.core.http import http_lifespan
from app.services.core.logs import configure_logging
from app.services.core.tracing import setup_tracing
from app.settings import get_settings
from app.state.admin import AdminState
from app.state.admin_system import AdminSystemState
from app.state.analyzer import AnalyzerState
from app.state.auth import AuthState
from app.state.credits import CreditsState
from app.state.dashboard import DashboardState
from app.state.editor import EditorState
from app.state.email_preferences import EmailPreferencesState, UnsubscribeState
from app.state.errors import show_unexpected_error
from app.state.gallery import GalleryState
from app.state.generate import GenerateState
from app.state.generate_runs import GenerateRunsState
from app.state.lora_form import LoraFormState
from app.state.loras import LorasState
from app.state.pricing import PricingState
from app.state.project_keys import ProjectKeysState
from app.state.project_overview import ProjectState
from app.state.project_storage import ProjectStorageState
from app.state.project_uploads import ProjectUploadsState
from app.state.project_webhooks import ProjectWebhooksState
from app.state.projects import ProjectsState
from app.state.prompt_round_trip import PromptRoundTripState
from app.state.prompt_tools import PromptToolsState
from app.state.saved_filters import SavedFiltersState
from app.state.session import SessionState
from app.state.share import ShareState
from app.state.studio import StudioState
from app.state.studio_jobs import StudioJobsState
from app.state.update_list import UpdateListState

configure_logging(level=get_settings().log_level, json_output=get_settings().log_json)
size_database_pool()  # before any engine is made
setup_tracing(get_settings())  # before create_api(): it instruments the API it makes
setup_error_reporting(get_settings())
ensure_models()

app = rx.App(
    stylesheets=["/styles.css"],
    head_components=[
        rx.el.link(rel="icon", href="/favicon.ico"),
        rx.script(QUERY_FIELDS_SCRIPT),
    ],
    api_transformer=create_api(),
    backend_exception_handler=show_unexpected_error,
)
app.register_lifespan_task(http_lifespan)  # closes the shared HTTP client on shutdown
app.register_lifespan_task(thread_limit_lifespan)
app.add_page(
    analyzer_page,
    route=routes.HOME,
    title="JSONCraft · Image to JSON prompt",
    on_load=AnalyzerState.load_analyzer,
)
app.add_page(
    gallery_page,
    route=routes.GALLERY,
    title="Gallery · JSONCraft",
    on_load=[GalleryState.load_gallery, SavedFiltersState.load_saved_filters],
)
app.add_page(
    login_page, route=routes.LOGIN, title="Sign in · JSONCraft", on_load=AuthState.load_auth_page
)
app.add_page(
    signup_page, route=routes.SIGNUP, title="Sign up · JSONCraft", on_load=AuthState.load_auth_page
)
app.add_page(
    account_page,
    route=routes.ACCOUNT,
    title="Account · JSONCraft",
    on_load=[SessionState.require_user, EmailPreferencesState.load_email_preferences],
)
app.add_page(
    unsubscribe_page,
    route=routes.UNSUBSCRIBE,
    title="Unsubscribe · JSONCraft",
    on_load=[SessionState.load_session, UnsubscribeState.load_unsubscribe],
)
app.add_page(
    admin_page,
    route=routes.ADMIN,
    title="Admin · JSONCraft",
    on_load=[AdminState.load_admin, UpdateListState.load_update_list],
)
app.add_page(
    admin_system_page,
    route=routes.ADMIN_SYSTEM,
    title="Admin · System · JSONCraft",
    on_load=AdminSystemState.load_system,
)
app.add_page(
    not_found_page, route="404", title="Not found · JSONCraft", on_load=SessionState.load_session
)
app.add_page(
    prompt_page,
    route=routes.PROMPT_ROUTE,
    title="Prompt · JSONCraft",
    on_load=[
        EditorState.load_prompt,
        PromptToolsState.load_tools,
        PromptRoundTripState.load_round_trip,
    ],
)
app.add_page(
    project_storage_page,
    route=routes.PROJECT_STORAGE_ROUTE,
    title="Storage · Project · JSONCraft",
    on_load=ProjectStorageState.load_storage,
)
app.add_page(
    share_page,
    route=routes.SHARE_ROUTE,
    title="Shared prompt · JSONCraft",
    on_load=ShareState.load_shared,
)
app.add_page(
    credits_page,
    route=routes.CREDITS,
    title="Credits · JSONCraft",
    on_load=CreditsState.load_credits,
)
app.add_page(
    studio_page,
    route=routes.STUDIO,
    title="Studio · JSONCraft",
    on_load=[StudioState.load_studio, StudioJobsState.load_jobs],
)
app.add_page(
    loras_page,
    route=routes.LORAS,
    title="LoRAs · JSONCraft",
    on_load=[LorasState.load_loras, LoraFormState.load_form],
)
app.add_page(
    dashboard_page,
    route=routes.DASHBOARD,
    title="Overview · JSONCraft",
    on_load=DashboardState.load_dashboard,
)
app.add_page(
    docs_uploads_page,
    route=routes.DOCS_UPLOADS,
    title="Uploads for developers · JSONCraft",
    on_load=SessionState.load_session,
)
app.add_page(
    pricing_page,
    route=routes.PRICING,
    title="Pricing · JSONCraft",
    on_load=PricingState.load_pricing,
)
app.add_page(
    generate_page,
    route=routes.GENERATE,
    title="Generate · JSONCraft",
    on_load=[GenerateState.load_generate, GenerateRunsState.load_runs],
)
app.add_page(
    project_webhooks_page,
    route=routes.PROJECT_WEBHOOKS_ROUTE,
    title="Webhooks · JSONCraft",
    on_load=ProjectWebhooksState.load_webhooks,
)
app.add_page(
    projects_page,
    route=routes.PROJECTS,
    title="Projects · JSONCraft",
    on_load=ProjectsState.load_projects,
)
app.add_page(
    project_overview_page,
    route=routes.PROJECT_ROUTE,
    title="Project · JSONCraft",
    on_load=[ProjectState.load_project, ProjectKeysState.load_keys],
)
app.add_page(
    project_uploads_page,
    route=routes.PROJECT_UPLOADS_ROUTE,
    title="Uploads · JSONCraft",
    on_load=ProjectUploadsState.load_uploads,
)
