"""Plan, credit-pack and price cards, shared by the landing page and `/pricing`.

They render what PricingState loaded from the services; `buy` is the handler a buy button calls
with "plan:<name>" or "pack:<id>" (None renders no buttons, as on the landing preview).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

Buy = Callable[[Any], Any] | None


def plan_card(plan: rx.Var, buy: Buy, purchases_enabled: rx.Var) -> rx.Component:
    button: list[rx.Component] = []
    if buy is not None:
        button = [
            rx.cond(
                plan["paid"].to(bool) & purchases_enabled,
                rx.button(
                    "Subscribe to " + plan["name"].to(str),
                    on_click=buy("plan:" + plan["id"].to(str)),
                    width="100%",
                ),
            )
        ]
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(plan["name"], size="5", as_="h3"),
                rx.cond(plan["paid"].to(bool), rx.badge("Monthly", color_scheme="violet")),
                align="center",
                spacing="2",
            ),
            rx.text(plan["price"], size="7", weight="bold"),
            rx.vstack(
                rx.foreach(
                    plan["perks"].to(list[str]),
                    lambda perk: rx.hstack(
                        rx.icon("check", size=14, color=rx.color("green", 10)),
                        rx.text(perk, size="2"),
                        align="center",
                        spacing="2",
                    ),
                ),
                spacing="1",
            ),
            *button,
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="plan-card",
    )


def pack_card(pack: rx.Var, buy: Buy, purchases_enabled: rx.Var) -> rx.Component:
    button: list[rx.Component] = []
    if buy is not None:
        button = [
            rx.cond(
                purchases_enabled,
                rx.button(
                    "Buy " + pack["credits"].to_string() + " credits",
                    on_click=buy("pack:" + pack["id"].to(str)),
                    variant="soft",
                    width="100%",
                ),
            )
        ]
    return rx.card(
        rx.vstack(
            rx.text(pack["credits"].to_string() + " credits", weight="bold", size="4"),
            rx.text(pack["price"], size="6", weight="bold"),
            rx.text(pack["per_credit"], size="1", color_scheme="gray"),
            *button,
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="pack-card",
    )


def plans_grid(plans: rx.Var, buy: Buy, purchases_enabled: rx.Var) -> rx.Component:
    return rx.grid(
        rx.foreach(plans, lambda p: plan_card(p, buy, purchases_enabled)),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="4",
        width="100%",
        aria_label="Plans",
    )


def packs_grid(packs: rx.Var, buy: Buy, purchases_enabled: rx.Var) -> rx.Component:
    return rx.grid(
        rx.foreach(packs, lambda p: pack_card(p, buy, purchases_enabled)),
        columns=rx.breakpoints(initial="1", sm="3"),
        spacing="4",
        width="100%",
        aria_label="Credit packs",
    )


def action_prices_table(actions: rx.Var) -> rx.Component:
    return rx.table.root(
        rx.table.body(
            rx.foreach(
                actions,
                lambda a: rx.table.row(
                    rx.table.cell(a["label"]),
                    rx.table.cell(
                        rx.badge(
                            a["cost"].to(str),
                            color_scheme=rx.cond(a["credits"].to(int) == 0, "green", "gray"),
                            variant="soft",
                        ),
                        text_align="right",
                    ),
                ),
            )
        ),
        variant="surface",
        size="1",
        width="100%",
        aria_label="What each action costs",
    )


def purchases_note(purchases_enabled: rx.Var) -> rx.Component:
    return rx.cond(
        purchases_enabled,
        rx.text(
            "Secure checkout by Stripe. Credits arrive once the payment is confirmed; "
            "the Pro plan renews monthly and can be cancelled any time.",
            size="1",
            color_scheme="gray",
        ),
        rx.callout(
            "Purchases aren't set up on this server yet, so nothing can be bought here: "
            "an admin grants credits instead.",
            icon="info",
            color_scheme="gray",
            width="100%",
            role="note",
        ),
    )
