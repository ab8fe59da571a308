"""What a person can do about each reason a record did not sync (shown by ``failures explain``)."""

from __future__ import annotations

from sync.rules import ReasonCode

FIX_THE_DATA = (
    "Correct the record where it came from, then retry it (or wait: a change is retried)."
)

REMEDIES: dict[str, str] = {
    ReasonCode.TARGET_UNAVAILABLE.value: (
        "Nothing: the other system did not answer. The scheduled retry-failed run takes it "
        "again with backoff; retry now if it is back."
    ),
    ReasonCode.TARGET_REJECTED.value: (
        "Read the target's error below, correct the record at its source, then retry it."
    ),
    ReasonCode.AMBIGUOUS_MATCH.value: (
        "Several records could be the same thing: make the identifiers unique (organisation "
        "number, e-mail, number) on one side, then retry; or decide by hand: `svenn-sync link "
        "TENANT ENTITY --svenn ID --tripletex ID --by NAME` (the same thing) or `svenn-sync "
        "keep-apart ...` (different things)."
    ),
    ReasonCode.MATCH_CONFLICT.value: (
        "The records agree on one key and differ on a stronger one: correct the one that is "
        "wrong, then retry; or decide by hand with `svenn-sync link` or `svenn-sync keep-apart`."
    ),
    ReasonCode.DUPLICATE_IN_SOURCE.value: (
        "Merge the duplicates where they came from, then retry; or decide by hand: `svenn-sync "
        "link TENANT ENTITY --svenn ID --of OTHER --by NAME` (a duplicate: it stays out) or "
        "`svenn-sync keep-apart ... --of OTHER` (not a duplicate: it is synced)."
    ),
    ReasonCode.FIELD_CONFLICT.value: (
        "The precedence rule kept one value. To keep the other: `svenn-sync failures resolve "
        "TENANT ROW_ID --keep svenn|tripletex --by NAME`."
    ),
    ReasonCode.KEY_IN_USE.value: (
        "Another record on the target already uses this identifier: merge or renumber one of "
        "them, then retry."
    ),
    ReasonCode.PROJECT_CUSTOMER_NOT_LINKED.value: (
        "Fix the customer's own failed record first; the project follows on the next retry."
    ),
    ReasonCode.PROJECT_MANAGER_NOT_LINKED.value: (
        "Fix the project manager's own failed record first; the project follows on the next retry."
    ),
    ReasonCode.PROJECT_MANAGER_NO_ACCESS.value: (
        "Give the project manager project-manager access in Tripletex, then retry."
    ),
    ReasonCode.PROJECT_IS_SUBPROJECT.value: "Nothing: sub-projects are not synced by design.",
    ReasonCode.PROJECT_IS_INTERNAL.value: "Nothing: internal projects are not synced by design.",
    ReasonCode.CUSTOMER_INACTIVE.value: "Nothing, unless the customer should be active again.",
}


def remedy(reason_code: str) -> str:
    """The advice for a reason code (fix the data and retry, unless said otherwise)."""
    return REMEDIES.get(reason_code, FIX_THE_DATA)
