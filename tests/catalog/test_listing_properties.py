"""Properties of the list's sorting, paging and facets (pure functions, no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from elysium.catalog.listing import PRICE_BANDS, facets_of, page_sorted
from elysium.catalog.schemas import ProductSort
from elysium.models import Product

METALS = ["platinum", "18k-yellow-gold", "18k-rose-gold"]


@st.composite
def products(draw: st.DrawFn) -> list[Product]:
    count = draw(st.integers(min_value=0, max_value=25))
    made = []
    for index in range(count):
        made.append(
            Product(
                id=uuid.uuid4(),
                slug=f"piece-{index:03d}",
                title=draw(st.sampled_from(["Aurora", "Celeste", "Nova", "Orbit"])),
                base_price_pence=draw(st.integers(min_value=0, max_value=20_000_000)),
                currency="GBP",
                collection_slug=draw(st.sampled_from(["bridal", "fine", None])),
                category=draw(st.sampled_from(["rings", "earrings", None])),
                metals=draw(st.lists(st.sampled_from(METALS), unique=True, max_size=3)),
                featured=draw(st.booleans()),
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
                sanity_created_at=datetime.fromtimestamp(
                    draw(st.integers(min_value=1_600_000_000, max_value=1_800_000_000)), UTC
                ),
            )
        )
    return made


@settings(max_examples=60, deadline=None)
@given(
    pieces=products(),
    sort=st.sampled_from([None, *ProductSort]),
    limit=st.integers(min_value=1, max_value=7),
)
def test_paging_shows_every_piece_once_in_order(
    pieces: list[Product], sort: ProductSort | None, limit: int
) -> None:
    views = {p.id: index % 4 for index, p in enumerate(pieces)}
    seen: list[Product] = []
    cursor = None
    for _ in range(len(pieces) + 2):
        page, cursor = page_sorted(pieces, sort, views, limit, cursor)
        assert len(page) <= limit
        seen += page
        if cursor is None:
            break
    assert sorted(p.slug for p in seen) == sorted(p.slug for p in pieces)
    assert len(seen) == len(pieces)
    if sort is ProductSort.PRICE_ASC:
        assert [p.base_price_pence for p in seen] == sorted(p.base_price_pence for p in pieces)
    if sort is ProductSort.PRICE_DESC:
        prices = [p.base_price_pence for p in seen]
        assert prices == sorted(prices, reverse=True)
    if sort is ProductSort.POPULAR:
        counts = [views[p.id] for p in seen]
        assert counts == sorted(counts, reverse=True)


@settings(max_examples=80, deadline=None)
@given(pieces=products())
def test_every_piece_falls_in_exactly_one_price_band(pieces: list[Product]) -> None:
    facets = facets_of(pieces)
    assert sum(band.count for band in facets.price_band) == len(pieces)
    assert [band.value for band in facets.price_band] == [name for name, _, _ in PRICE_BANDS]
    assert sum(f.count for f in facets.collection) == sum(1 for p in pieces if p.collection_slug)
    for metal in facets.metal:
        assert metal.count == sum(1 for p in pieces if metal.value in p.metals)
