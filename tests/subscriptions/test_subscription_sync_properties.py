"""Property: subscription states reported out of order (or more than once) leave the row in
the newest reported state; a state just read from the provider always wins."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from elysium.models import Subscription
from elysium.models.subscription import SubscriptionStatus
from elysium.payments.billing import ProviderSubscription
from elysium.subscriptions.service import apply_snapshot

Reported = tuple[int, SubscriptionStatus, bool]
reports = st.lists(
    st.tuples(
        st.integers(1_700_000_000, 1_700_000_100),
        st.sampled_from(SubscriptionStatus),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


def _row() -> Subscription:
    return Subscription(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        plan_id=uuid.uuid4(),
        status=SubscriptionStatus.INCOMPLETE,
        cancel_at_period_end=False,
        provider_synced_at=0,
    )


def _snapshot(status: SubscriptionStatus, cancelling: bool) -> ProviderSubscription:
    return ProviderSubscription(
        subscription_id="sub_1",
        customer_id="cus_1",
        status=status,
        cancel_at_period_end=cancelling,
        current_period_end=1_800_000_000,
        trial_end=None,
        metadata={},
    )


@given(reports)
def test_the_newest_event_wins_whatever_the_order(events: list[Reported]) -> None:
    row = _row()
    for at, status, cancelling in events:
        apply_snapshot(row, _snapshot(status, cancelling), at)
    newest = max(at for at, _, _ in events)
    first_newest = next(e for e in events if e[0] == newest)  # ties: the first one counts
    assert (row.status, row.cancel_at_period_end) == (first_newest[1], first_newest[2])
    assert row.provider_synced_at == newest
    ever_cancelled = any(s == SubscriptionStatus.CANCELLED for _, s, _ in _applied(events))
    assert (row.cancelled_at is not None) == ever_cancelled


def _applied(events: list[Reported]) -> list[Reported]:
    """The events that were newer than everything before them."""
    seen, kept = 0, []
    for event in events:
        if event[0] > seen:
            kept.append(event)
            seen = event[0]
    return kept


@given(reports, st.sampled_from(SubscriptionStatus))
def test_a_state_read_from_the_provider_always_wins(
    events: list[Reported], fresh: SubscriptionStatus
) -> None:
    row = _row()
    for at, status, cancelling in events:
        apply_snapshot(row, _snapshot(status, cancelling), at)
    assert apply_snapshot(row, _snapshot(fresh, False), 1_600_000_000, fresh=True)
    assert row.status == fresh
    late = max(at for at, _, _ in events)
    assert not apply_snapshot(row, _snapshot(SubscriptionStatus.PAST_DUE, False), late)
    assert row.status == fresh
