"""The app shell: navigation, user menu, theme toggle, responsive container."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from app import routes
from app.components.post_form import post_form
from app.state.session import SessionState

LOW_CREDITS = 10  # below this the balance shows amber and /credits warns
NAV_ITEMS = [
    ("Overview", routes.DASHBOARD, "layout-dashboard"),
    ("Analyze", routes.HOME, "scan-search"),
    ("Gallery", routes.GALLERY, "images"),
    ("Generate", routes.GENERATE, "wand-sparkles"),
    ("Studio", routes.STUDIO, "layers"),
    ("LoRAs", routes.LORAS, "brain-circuit"),
    ("Projects", routes.PROJECTS, "folder-kanban"),
    ("Pricing", routes.PRICING, "tag"),
]
# Shown only to signed-in people: for a visitor the page would only ask them to sign in.
SIGNED_IN_ONLY = {routes.PROJECTS}


def logo() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.image(src="/logo.svg", alt="", width="28px", height="28px"),
            rx.text("JSONCraft", size="5", weight="bold"),
            align="center",
            spacing="2",
        ),
        href=routes.HOME,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_label="JSONCraft home",
        flex_shrink="0",  # squeezed, its text would spill over the first navigation link
    )


def nav_link(label: str, href: str, icon: str) -> rx.Component:
    link = _nav_link(label, href, icon)
    return rx.cond(SessionState.signed_in, link) if href in SIGNED_IN_ONLY else link


def _nav_link(label: str, href: str, icon: str) -> rx.Component:
    path = SessionState.router.url.path
    # A production build serves pages with a trailing slash.
    active = (path == href) | (path == f"{href.rstrip('/')}/")
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=16),
            # Icons alone between the narrow menu and a wide window: the labels would overflow.
            rx.text(label, size="3", weight="medium", class_name="nav-label"),
            spacing="1",
            align="center",
        ),
        href=href,
        aria_label=label,
        title=label,
        underline="none",
        color_scheme=rx.cond(active, "violet", "gray"),
        high_contrast=~active,
        padding_x="0.4em",
        class_name="nav-link",
    )


def theme_toggle() -> rx.Component:
    return rx.icon_button(
        rx.color_mode_cond(light=rx.icon("moon", size=18), dark=rx.icon("sun", size=18)),
        on_click=rx.toggle_color_mode,
        variant="ghost",
        color_scheme="gray",
        aria_label="Toggle dark mode",
        title="Toggle dark mode",
    )


def link_button(label: str, href: str, **props: str) -> rx.Component:
    """A link styled as a button (a real <a>, not a <button> nested in one)."""
    return rx.button(rx.link(label, href=href, underline="none"), as_child=True, **props)


def credits_badge() -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.link(
            rx.badge(
                rx.icon("coins", size=14),
                SessionState.credits,
                rx.text(" credits", class_name="hide-narrow"),
                color_scheme=rx.cond(SessionState.credits < LOW_CREDITS, "amber", "green"),
                variant="soft",
                size="2",
            ),
            href=routes.CREDITS,
            underline="none",
            aria_label="Credit balance",
        ),
    )


SIGN_OUT_FORM = "sign-out-form"


def sign_out_form() -> rx.Component:
    """Posted by the menu's "Sign out": the response clears the HttpOnly session cookie."""
    return post_form(routes.API_SIGN_OUT, id=SIGN_OUT_FORM, hidden=True)


def submit_sign_out() -> EventSpec:
    return rx.call_script(f"document.getElementById('{SIGN_OUT_FORM}').requestSubmit()")


def user_menu() -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.avatar(fallback=SessionState.initials, size="1", radius="full"),
                    # A long name is cut short rather than push the header sideways.
                    rx.text(
                        SessionState.user_name,
                        class_name="hide-narrow truncate",
                        max_width="9em",
                    ),
                    rx.icon("chevron-down", size=14),
                    variant="ghost",
                    color_scheme="gray",
                    aria_label="Account menu",
                ),
            ),
            rx.menu.content(
                rx.menu.item(
                    rx.text(SessionState.user_email, size="1", color_scheme="gray"), disabled=True
                ),
                rx.menu.separator(),
                rx.menu.item("Account", on_click=rx.redirect(routes.ACCOUNT)),
                rx.menu.item("Credits", on_click=rx.redirect(routes.CREDITS)),
                rx.cond(
                    SessionState.is_admin,
                    rx.menu.item("Admin", on_click=rx.redirect(routes.ADMIN)),
                ),
                rx.menu.item("Sign out", on_click=submit_sign_out(), color="red"),
            ),
        ),
        rx.hstack(
            link_button("Sign in", routes.LOGIN, variant="soft"),
            link_button("Sign up", routes.SIGNUP, class_name="hide-narrow"),
            spacing="2",
        ),
    )


def _menu_item(label: str, href: str) -> rx.Component:
    item = rx.menu.item(label, on_click=rx.redirect(href))
    return rx.cond(SessionState.signed_in, item) if href in SIGNED_IN_ONLY else item


def narrow_nav() -> rx.Component:
    return rx.box(
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("menu", size=18), variant="ghost", aria_label="Open navigation"
                )
            ),
            rx.menu.content(*[_menu_item(label, href) for label, href, _ in NAV_ITEMS]),
        ),
        class_name="show-narrow",
    )


def navbar() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.hstack(
                narrow_nav(),
                logo(),
                # Tight gaps: eight labelled links, the logo and the account menu fit in 1280px.
                rx.hstack(
                    *[nav_link(*item) for item in NAV_ITEMS], spacing="1", class_name="hide-narrow"
                ),
                spacing="4",
                align="center",
            ),
            rx.hstack(theme_toggle(), credits_badge(), user_menu(), spacing="3", align="center"),
            justify="between",
            align="center",
            # Wider than the pages' 1200px: the eight labelled links need it (labels show from
            # 1301px, assets/styles.css).
            max_width="1280px",
            margin_x="auto",
            padding_x="1em",
            height="60px",
        ),
        as_="header",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
    )


def page_shell(
    *children: rx.Component, title: str | rx.Var[str] = "", subtitle: str = ""
) -> rx.Component:
    header = []
    if isinstance(title, rx.Var) or title:
        header.append(rx.heading(title, size="7", as_="h1"))
    if subtitle:
        header.append(rx.text(subtitle, color_scheme="gray", size="3"))
    return rx.box(
        navbar(),
        sign_out_form(),
        rx.box(
            rx.vstack(*header, *children, spacing="4", width="100%"),
            as_="main",
            max_width="1200px",
            margin_x="auto",
            padding="1.5em 1em 4em",
        ),
        min_height="100vh",
        background_color=rx.color("gray", 2),
    )


def empty_state(icon: str, title: str, text: str, *actions: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=40, color=rx.color("gray", 9)),
            rx.heading(title, size="4", as_="h2"),
            rx.text(text, color_scheme="gray", text_align="center", max_width="420px"),
            *actions,
            align="center",
            spacing="3",
        ),
        padding="3em 1em",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
    )
