"""The sandbox's in-memory Tripletex: companies, their tables, tokens and sessions."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
AREAS = frozenset({"customer", "employee", "project", "activity", "timesheet", "event"})

# entity name -> (model name in the spec, URL path under /v2, entitlement area)
ENTITIES: dict[str, tuple[str, str, str]] = {
    "customer": ("Customer", "customer", "customer"),
    "employee": ("Employee", "employee", "employee"),
    "project": ("Project", "project", "project"),
    "activity": ("Activity", "activity", "activity"),
    "projectActivity": ("ProjectActivity", "project/projectActivity", "project"),
    "timesheetEntry": ("TimesheetEntry", "timesheet/entry", "timesheet"),
    "department": ("Department", "department", "employee"),
    "employment": ("Employment", "employee/employment", "employee"),
}
ENTITY_OF_MODEL = {model: name for name, (model, _, _) in ENTITIES.items()}
# Sandbox-only keys an employee may carry in a seed or admin edit (never shown by the API).
PM_FLAG = "sandboxProjectManager"


def oslo_now() -> dt.datetime:
    """Wall-clock time in Norway, naive (as Tripletex prints timestamps)."""
    return dt.datetime.now(OSLO).replace(tzinfo=None)


@dataclass
class EmployeeToken:
    """An employee token as created in the Tripletex UI ("API-tilgang")."""

    token: str = field(repr=False)
    company_id: int
    entitlements: frozenset[str]
    employee_id: int | None = None

    def allows(self, area: str) -> bool:
        """Whether the token's entitlements cover an API area."""
        return "ALL" in self.entitlements or area in self.entitlements


@dataclass
class Session:
    """A session token made from a consumer token and an employee token."""

    id: int
    token: str = field(repr=False)
    employee_token: EmployeeToken
    expiration_date: dt.date
    expired: bool = False


@dataclass
class Company:
    """One Tripletex account; every table belongs to exactly one company."""

    id: int
    name: str
    organization_number: str = ""
    tables: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in ENTITIES}
    )
    tokens: list[EmployeeToken] = field(default_factory=list)
    # unique key name -> key value -> row id (kept up to date by model.insert/update/delete)
    unique: dict[str, dict[Any, int]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    # Approved/completed timesheet months: ("YYYY-MM", employee id or None for everyone).
    locked_months: set[tuple[str, int | None]] = field(default_factory=set)

    def period_locked(self, employee_id: int | None, day: str) -> bool:
        """Whether hours of ``employee_id`` on ``day`` (YYYY-MM-DD) are in a locked month."""
        month = day[:7]
        return (month, None) in self.locked_months or (month, employee_id) in self.locked_months

    def table(self, entity: str) -> dict[int, dict[str, Any]]:
        """The rows of one entity, by id, in creation order."""
        return self.tables[entity]

    def owner_id(self) -> int | None:
        """The employee the first token belongs to (the account owner)."""
        for token in self.tokens:
            if token.employee_id is not None:
                return token.employee_id
        employees = self.tables["employee"]
        return next(iter(employees), None)


@dataclass
class Sandbox:
    """All companies plus the global id counter, tokens and sessions."""

    consumer_token: str = field(default="sandbox-consumer-token", repr=False)
    environment: str = "production"
    companies: dict[int, Company] = field(default_factory=dict)
    employee_tokens: dict[str, EmployeeToken] = field(default_factory=dict, repr=False)
    sessions: dict[str, Session] = field(default_factory=dict, repr=False)
    clock: Callable[[], dt.datetime] = oslo_now
    next_id: int = 100_001
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Largest list a ``/list`` batch endpoint accepts (Tripletex publishes no number).
    max_batch: int = 1000

    def new_id(self, wanted: Any = None) -> int:
        """A fresh global id (Tripletex ids are unique across companies)."""
        if isinstance(wanted, int) and wanted > 0:
            self.next_id = max(self.next_id, wanted + 1)
            return wanted
        self.next_id += 1
        return self.next_id - 1

    def company_of_token(self, token: str) -> Company | None:
        """The company an employee token belongs to."""
        info = self.employee_tokens.get(token)
        return self.companies.get(info.company_id) if info else None

    def add_token(self, company: Company, token: EmployeeToken) -> None:
        """Register an employee token for a company."""
        company.tokens.append(token)
        self.employee_tokens[token.token] = token

    def revoke_token(self, token: str) -> bool:
        """The owner deleted the token in "API-tilgang": it and its sessions stop working."""
        info = self.employee_tokens.pop(token, None)
        if info is None:
            return False
        company = self.companies.get(info.company_id)
        if company is not None:
            company.tokens = [t for t in company.tokens if t.token != token]
        for session in self.sessions.values():
            if session.employee_token.token == token:
                session.expired = True
        return True

    def open_session(self, employee_token: EmployeeToken, expiration: dt.date) -> Session:
        """Create a session token (the caller has checked the tokens)."""
        session_id = self.new_id()
        raw = {"tokenId": session_id, "token": secrets.token_hex(16)}
        token = base64.b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode()
        session = Session(session_id, token, employee_token, expiration)
        self.sessions[token] = session
        return session

    def session(self, token: str) -> Session | None:
        """A live session by its token (None when unknown, deleted or expired)."""
        session = self.sessions.get(token)
        if session is None or session.expired:
            return None
        if self.clock().date() >= session.expiration_date:
            return None  # expires at midnight on expirationDate
        return session

    def expire_sessions(self) -> int:
        """Expire every session now; returns how many there were."""
        for session in self.sessions.values():
            session.expired = True
        return len(self.sessions)

    def clear(self) -> None:
        """Forget every company, token and session."""
        self.companies.clear()
        self.employee_tokens.clear()
        self.sessions.clear()
