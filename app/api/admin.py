"""Admin-only REST endpoints. Roles are checked by the service as well as the dependency."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.api.deps import admin_user, db_session
from app.api.errors import ADMIN, COMMON, error_responses
from app.api.openapi import links
from app.api.params import PathId, RequestBody, RowId, Text
from app.services.accounts import update_subscribers, users
from app.services.billing import reports
from app.services.core.models import Role, User

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=COMMON | ADMIN)


class UserPublic(BaseModel):
    id: int
    email: str
    display_name: str
    role: str
    is_active: bool
    created_at: datetime


class RoleChange(RequestBody):
    role: Role


@router.get(
    "/users",
    response_model=list[UserPublic],
    summary="Accounts, newest first (admin)",
    responses=links(
        200,
        ChangeRole=(
            "change_role_api_admin_users__user_id__role_put",
            {"user_id": "$response.body#/0/id"},
        ),
        Usage=("usage_api_admin_usage_get", {"user_id": "$response.body#/0/id"}),
    ),
)
def list_users(
    q: Text = Query("", max_length=200, description="Part of the email"),
    limit: int = Query(50, ge=1, le=200),
    admin: User = Depends(admin_user),
    session: Session = Depends(db_session),
) -> list[UserPublic]:
    return [
        UserPublic(**vars(row))
        for row in users.list_users(session, actor=admin, query=q, limit=limit)
    ]


@router.put(
    "/users/{user_id}/role",
    response_model=UserPublic,
    summary="Change a role (admin)",
    # 409: an admin can't remove their own admin role.
    responses=error_responses(404, 409),
)
def change_role(
    user_id: PathId,
    body: RoleChange,
    admin: User = Depends(admin_user),
    session: Session = Depends(db_session),
) -> UserPublic:
    user = users.change_role(session, actor=admin, user_id=user_id, role=body.role.value)
    session.commit()
    return UserPublic(
        id=user.id or 0,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        is_active=user.is_active,
        created_at=user.created_at,
    )


# -- reports -----------------------------------------------------------------------------------

Days = Query(30, ge=1, le=reports.MAX_DAYS, description="Whole UTC days, ending today")


class UsageDayPublic(BaseModel):
    day: date
    credits: dict[str, int] = Field(description="Credits spent per model that day")
    total: int
    calls: int


class UsageReport(BaseModel):
    days: int
    user_id: int | None
    email: str | None
    models: list[str] = Field(description="Most credits first")
    total: int
    calls: int
    series: list[UsageDayPublic] = Field(description="Every day of the window, oldest first")


class TopUserPublic(BaseModel):
    user_id: int
    email: str
    credits: int
    calls: int


class RevenueDayPublic(BaseModel):
    day: date
    paid_cents: int
    refunded_cents: int
    net_cents: int


class RevenueReport(BaseModel):
    days: int
    cents: int = Field(description="Money in less refunds over the window")
    payments: int
    refunds: int
    series: list[RevenueDayPublic]


@router.get(
    "/usage",
    response_model=UsageReport,
    summary="Credits spent per day and model: everyone's, or one account's (admin)",
    responses=error_responses(404),
)
def usage(
    user_id: RowId | None = Query(None, description="Only this account"),
    days: int = Days,
    admin: User = Depends(admin_user),
    session: Session = Depends(db_session),
) -> UsageReport:
    found = reports.usage_over_time(session, actor=admin, days=days, user_id=user_id)
    return UsageReport(
        days=days,
        user_id=found.user_id,
        email=found.email,
        models=found.models,
        total=found.total,
        calls=found.calls,
        series=[
            UsageDayPublic(day=d.day, credits=d.credits, total=d.total, calls=d.calls)
            for d in found.days
        ],
    )


@router.get(
    "/top-users",
    response_model=list[TopUserPublic],
    summary="Accounts that spent the most credits (admin)",
)
def top_users(
    days: int = Days,
    limit: int = Query(10, ge=1, le=100),
    admin: User = Depends(admin_user),
    session: Session = Depends(db_session),
) -> list[TopUserPublic]:
    return [
        TopUserPublic(user_id=t.user_id, email=t.email, credits=t.credits, calls=t.calls)
        for t in reports.top_users(session, actor=admin, days=days, limit=limit)
    ]


@router.get("/revenue", response_model=RevenueReport, summary="Money in per day (admin)")
def revenue(
    days: int = Days,
    admin: User = Depends(admin_user),
    session: Session = Depends(db_session),
) -> RevenueReport:
    total = reports.revenue(session, actor=admin, days=days)
    return RevenueReport(
        days=days,
        cents=total.cents,
        payments=total.payments,
        refunds=total.refunds,
        series=[
            RevenueDayPublic(
                day=d.day,
                paid_cents=d.paid_cents,
                refunded_cents=d.refunded_cents,
                net_cents=d.net_cents,
            )
            for d in reports.revenue_by_day(session, actor=admin, days=days)
        ],
    )


@router.get(
    "/update-subscribers.csv",
    summary="Everyone who asked for product updates, as CSV (admin)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def update_subscribers_csv(
    admin: User = Depends(admin_user),
    session: Session = Depends(db_session),
) -> Response:
    return Response(
        update_subscribers.export_csv(session, actor=admin),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="jsoncraft-update-subscribers.csv"',
            "Cache-Control": "no-store",
        },
    )
