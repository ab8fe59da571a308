"""Planning a tenant's event subscriptions (pure): one active subscription per event, a rerun
plans nothing, disabled or missing ones are re-created and named, others' are left alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync.subscriptions import Seen, plan_subscriptions, plan_unsubscribe, receiver_url
from sync.webhook_events import PUSHED_EVENTS

TENANT = "t-demo"
URL = receiver_url("https://sync.example/", TENANT)
FIELDS = {"customer": "id,name", "project": "id,name,number", "employee": "id,firstName"}


def carried_out(plan, seen, next_id=1000):
    """The subscriptions after ``plan`` (as Tripletex would hold them)."""
    left = [s for s in seen if s.id not in plan.delete]
    made = [
        Seen(next_id + n, e, URL, "ACTIVE", FIELDS[e.split(".")[0]])
        for n, e in enumerate(plan.create)
    ]
    return left + made


def test_a_new_tenant_subscribes_every_event_once():
    plan = plan_subscriptions(TENANT, URL, FIELDS, [])
    assert plan.create == PUSHED_EVENTS and len(PUSHED_EVENTS) == 9
    assert plan.delete == () and plan.gone == PUSHED_EVENTS and not plan.healthy
    again = plan_subscriptions(TENANT, URL, FIELDS, carried_out(plan, []))
    assert again.healthy and again.gone == () and again.disabled == ()


def test_a_disabled_subscription_is_deleted_re_created_and_named():
    seen = carried_out(plan_subscriptions(TENANT, URL, FIELDS, []), [])
    broken = Seen(seen[0].id, seen[0].event, URL, "DISABLED_TOO_MANY_ERRORS", seen[0].fields)
    plan = plan_subscriptions(TENANT, URL, FIELDS, [broken, *seen[1:]])
    assert plan.create == (broken.event,) and plan.delete == (broken.id,)
    assert plan.disabled == ((broken.event, "DISABLED_TOO_MANY_ERRORS"),) and plan.gone == ()


def test_a_missing_subscription_is_re_created_and_named_gone():
    seen = carried_out(plan_subscriptions(TENANT, URL, FIELDS, []), [])
    plan = plan_subscriptions(TENANT, URL, FIELDS, seen[1:])
    assert plan.create == (seen[0].event,) and plan.gone == (seen[0].event,)


def test_other_subscriptions_of_the_company_are_never_touched():
    others = [
        Seen(1, "invoice.charged", "https://erp.example/hook", "ACTIVE", None),
        Seen(
            2, "customer.update", "https://sync.example/webhooks/tripletex/t-other", "ACTIVE", None
        ),
    ]
    plan = plan_subscriptions(TENANT, URL, FIELDS, others)
    assert plan.delete == () and plan_unsubscribe(TENANT, others) == ()


def test_an_old_receiver_url_or_other_fields_are_replaced():
    old = Seen(
        5, "customer.update", receiver_url("https://old.example", TENANT), "ACTIVE", "id,name"
    )
    wide = Seen(6, "project.update", URL, "ACTIVE", "*")
    plan = plan_subscriptions(TENANT, URL, FIELDS, [old, wide])
    assert set(plan.delete) == {5, 6} and {"customer.update", "project.update"} <= set(plan.create)
    assert plan_unsubscribe(TENANT, [old, wide]) == (5, 6)


statuses = st.sampled_from(["ACTIVE", "DISABLED", "DISABLED_TOO_MANY_ERRORS"])
subscriptions = st.lists(
    st.builds(
        Seen,
        id=st.integers(1, 500),
        event=st.sampled_from([*PUSHED_EVENTS, "invoice.charged"]),
        target_url=st.sampled_from(
            [URL, "https://old.example/webhooks/tripletex/t-demo", "https://x.example/h"]
        ),
        status=statuses,
        fields=st.sampled_from([None, "id,name", *FIELDS.values()]),
    ),
    unique_by=lambda s: s.id,
    max_size=30,
)


@given(subscriptions)
def test_after_any_plan_is_carried_out_each_event_has_exactly_one_and_nothing_is_planned(seen):
    after = carried_out(plan_subscriptions(TENANT, URL, FIELDS, seen), seen)
    ours = [s for s in after if s.target_url == URL]
    assert sorted(s.event for s in ours) == sorted(PUSHED_EVENTS)
    assert all(s.status == "ACTIVE" for s in ours)
    assert plan_subscriptions(TENANT, URL, FIELDS, after).healthy
    assert [s for s in seen if "x.example" in s.target_url] == [
        s for s in after if "x.example" in s.target_url
    ]
