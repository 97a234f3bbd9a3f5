"""Stock control pages: levels, thresholds, the ledger and staff holds, through the inventory
service the API uses (same checks, same audit)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from elysium.accounts.deps import StaffUser
from elysium.admin.pages import back_to, form_fields, parse, render, required
from elysium.admin.security import csrf_protect
from elysium.catalog.service import get_product
from elysium.db import SessionDep
from elysium.inventory import service
from elysium.inventory.schemas import HoldRequest, StockUpdate, ThresholdRequest
from elysium.kit.deps import SettingsDep

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])
LEDGER_ROWS = 100


def _page_of(slug: str, key: str | None = None) -> str:
    anchor = "" if key is None else f"#v-{quote(key, safe='')}"
    return f"/admin/inventory/{quote(slug, safe='')}{anchor}"


@router.get("/inventory")
async def inventory(request: Request, staff: StaffUser, session: SessionDep) -> Response:
    products = await service.stock_overview(session)
    titles = {p.slug: p.title for p in products}
    low = (await service.low_stock(session, 100, None)).items
    return render(request, "inventory.html", staff, products=products, low=low, titles=titles)


@router.get("/inventory/{product_slug}")
async def product_stock(
    request: Request, product_slug: str, staff: StaffUser, session: SessionDep
) -> Response:
    product = await get_product(session, product_slug)
    stock = await service.product_inventory(session, product.slug, staff=True)
    ledger = (await service.list_movements(session, product.slug, LEDGER_ROWS, None)).items
    return render(
        request,
        "inventory_product.html",
        staff,
        product=product,
        stock=stock,
        ledger=ledger,
        holds=await service.list_staff_holds(session, product.slug),
    )


@router.post("/inventory/{product_slug}/adjust")
async def adjust(
    request: Request, product_slug: str, staff: StaffUser, session: SessionDep
) -> Response:
    """Change a variant's stock by `adjust` units (negative to take away), with a reason."""
    form = await form_fields(request)
    key = required(form, "variant_key")
    change = parse(StockUpdate, {"adjust": form.get("adjust"), "reason": form.get("reason")})
    await service.update_stock(session, product_slug, key, change, staff)
    return back_to(_page_of(product_slug, key))


@router.post("/inventory/{product_slug}/threshold")
async def threshold(
    request: Request, product_slug: str, staff: StaffUser, session: SessionDep
) -> Response:
    form = await form_fields(request)
    change = parse(
        ThresholdRequest,
        {
            "product_slug": product_slug,
            "variant_key": form.get("variant_key"),
            "low_stock_threshold": form.get("low_stock_threshold"),
            "reason": form.get("reason"),
        },
    )
    done = await service.set_low_stock_threshold(session, change, staff)
    return back_to(_page_of(product_slug, done.variant_key))


def _hold_request(product_slug: str, form: dict[str, str]) -> HoldRequest:
    return parse(
        HoldRequest,
        {
            "product_slug": product_slug,
            "variant_key": form.get("variant_key"),
            "quantity": form.get("quantity"),
            "reason": form.get("reason"),
        },
    )


@router.post("/inventory/{product_slug}/hold")
async def hold(
    request: Request,
    product_slug: str,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    body = _hold_request(product_slug, await form_fields(request))
    hold_for = timedelta(days=settings.staff_hold_days)
    placed = await service.place_staff_hold(session, body, staff, hold_for)
    return back_to(_page_of(placed.product_slug, placed.variant_key))


@router.post("/inventory/{product_slug}/release")
async def release(
    request: Request, product_slug: str, staff: StaffUser, session: SessionDep
) -> Response:
    body = _hold_request(product_slug, await form_fields(request))
    released = await service.release_staff_hold(session, body, staff)
    return back_to(_page_of(released.product_slug, released.variant_key))
