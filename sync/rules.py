"""Which records may sync, and the stable reason codes for those that may not.

The rules are Svenn's published ones (DESIGN §6) plus what Tripletex demands when we create
there (FACTS §6). Each reason code has an English message for ops and a Norwegian (bokmål)
one for the tenant's "Logg" tab. Codes are stable: analysts query them, never the text.

Policy for employees without an e-mail going to Tripletex: they are **created as
``NO_ACCESS`` users** (Tripletex accepts those without e-mail, and field workers often have
none), not refused. ``check_record`` reports this as a non-blocking ``EMPLOYEE_NO_EMAIL``
notice so that the log explains why the person cannot log in; :func:`tripletex_user_type`
gives the user type to create. A *malformed* e-mail is blocking (``EMAIL_INVALID``): it is a
typo to fix, and silently creating a login-less user would hide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from sync import normalize
from sync.entities import Customer, Employee, HourEntry, Project
from sync.records import Direction, Record

NAME_MAX_LENGTH = 255  # Tripletex customer/project name
PERSON_NAME_MAX_LENGTH = 100  # Tripletex employee first/last name
EMAIL_MAX_LENGTH = 254
EMPLOYEE_EMAIL_MAX_LENGTH = 100  # Tripletex employee e-mail (FACTS §6, legacy limits)
CUSTOMER_NUMBER_MAX = 2**31 - 1  # Tripletex customerNumber is an int32 (spec 2.75)


class ReasonCode(StrEnum):
    """Why a record did not sync (stable; stored in the failed-record log)."""

    PROJECT_NO_START_DATE = "PROJECT_NO_START_DATE"
    PROJECT_IS_SUBPROJECT = "PROJECT_IS_SUBPROJECT"
    PROJECT_IS_INTERNAL = "PROJECT_IS_INTERNAL"
    PROJECT_END_BEFORE_START = "PROJECT_END_BEFORE_START"
    PROJECT_CUSTOMER_NOT_LINKED = "PROJECT_CUSTOMER_NOT_LINKED"
    PROJECT_MANAGER_NOT_LINKED = "PROJECT_MANAGER_NOT_LINKED"
    PROJECT_MANAGER_NO_ACCESS = "PROJECT_MANAGER_NO_ACCESS"
    KEY_IN_USE = "KEY_IN_USE"
    CUSTOMER_NUMBER_NOT_NUMERIC = "CUSTOMER_NUMBER_NOT_NUMERIC"
    CUSTOMER_INACTIVE = "CUSTOMER_INACTIVE"
    EMPLOYEE_NO_LAST_NAME = "EMPLOYEE_NO_LAST_NAME"
    EMPLOYEE_NO_EMAIL = "EMPLOYEE_NO_EMAIL"
    NAME_MISSING = "NAME_MISSING"
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    ORG_NUMBER_INVALID = "ORG_NUMBER_INVALID"
    EMAIL_INVALID = "EMAIL_INVALID"
    AMBIGUOUS_MATCH = "AMBIGUOUS_MATCH"
    MATCH_CONFLICT = "MATCH_CONFLICT"
    DUPLICATE_IN_SOURCE = "DUPLICATE_IN_SOURCE"
    TARGET_REJECTED = "TARGET_REJECTED"
    TARGET_UNAVAILABLE = "TARGET_UNAVAILABLE"
    EXPECTATION_FAILED = "EXPECTATION_FAILED"
    HOURS_NOT_APPROVED = "HOURS_NOT_APPROVED"
    HOURS_ZERO = "HOURS_ZERO"
    HOURS_NO_PROJECT = "HOURS_NO_PROJECT"
    HOURS_EMPLOYEE_NOT_LINKED = "HOURS_EMPLOYEE_NOT_LINKED"
    HOURS_PROJECT_NOT_LINKED = "HOURS_PROJECT_NOT_LINKED"
    HOURS_LOCKED = "HOURS_LOCKED"
    HOURS_NO_ACTIVITY = "HOURS_NO_ACTIVITY"
    HOURS_ENTRY_EXISTS = "HOURS_ENTRY_EXISTS"
    HOURS_CHANGED_IN_TRIPLETEX = "HOURS_CHANGED_IN_TRIPLETEX"
    ENTITY_NOT_SYNCED_IN_DIRECTION = "ENTITY_NOT_SYNCED_IN_DIRECTION"
    CUSTOMER_NUMBER_OUT_OF_RANGE = "CUSTOMER_NUMBER_OUT_OF_RANGE"
    # Realtime sync (sync/merge.py, sync/realtime.py).
    FIELD_CONFLICT = "FIELD_CONFLICT"
    CHANGE_NOT_SYNCED = "CHANGE_NOT_SYNCED"
    DELETE_NOT_SYNCED = "DELETE_NOT_SYNCED"
    STALE_VERSION = "STALE_VERSION"
    MALFORMED_RECORD = "MALFORMED_RECORD"
    COUNTERPART_MALFORMED = "COUNTERPART_MALFORMED"


# (English, Norwegian bokmål); placeholders are filled from ``message(code, **context)``.
MESSAGES: dict[ReasonCode, tuple[str, str]] = {
    ReasonCode.PROJECT_NO_START_DATE: (
        "Project '{name}' has no start date; projects without a start date are not synced.",
        "Prosjektet «{name}» mangler startdato; prosjekter uten startdato synkroniseres ikke.",
    ),
    ReasonCode.PROJECT_IS_SUBPROJECT: (
        "Project '{name}' is a sub-project; sub-projects are not synced.",
        "Prosjektet «{name}» er et underprosjekt; underprosjekter synkroniseres ikke.",
    ),
    ReasonCode.PROJECT_IS_INTERNAL: (
        "Project '{name}' is an internal project; internal projects are not synced.",
        "Prosjektet «{name}» er et internprosjekt; internprosjekter synkroniseres ikke.",
    ),
    ReasonCode.PROJECT_END_BEFORE_START: (
        "Project '{name}' ends before it starts.",
        "Prosjektet «{name}» har sluttdato før startdato.",
    ),
    ReasonCode.PROJECT_CUSTOMER_NOT_LINKED: (
        "The customer of project '{name}' is not synced, so the project cannot be.",
        "Kunden til prosjektet «{name}» er ikke synkronisert, så prosjektet kan ikke "
        "synkroniseres.",
    ),
    ReasonCode.PROJECT_MANAGER_NOT_LINKED: (
        "The project manager of project '{name}' is not synced, so the project cannot be.",
        "Prosjektlederen for prosjektet «{name}» er ikke synkronisert, så prosjektet kan ikke "
        "synkroniseres.",
    ),
    ReasonCode.PROJECT_MANAGER_NO_ACCESS: (
        "The project manager of project '{name}' may not manage projects in Tripletex; give "
        "them project manager access in Tripletex, then retry.",
        "Prosjektlederen for prosjektet «{name}» har ikke tilgang som prosjektleder i "
        "Tripletex; gi tilgangen i Tripletex og prøv igjen.",
    ),
    ReasonCode.KEY_IN_USE: (
        "'{name}' cannot be created in {system}: its {key} '{value}' is already used by "
        "another record there.",
        "«{name}» kan ikke opprettes i {system}: {key} «{value}» er allerede i bruk der.",
    ),
    ReasonCode.CUSTOMER_NUMBER_NOT_NUMERIC: (
        "Customer '{name}' has customer number '{value}'; only numeric customer numbers sync.",
        "Kunden «{name}» har kundenummer «{value}»; bare numeriske kundenumre synkroniseres.",
    ),
    ReasonCode.CUSTOMER_INACTIVE: (
        "Customer '{name}' is inactive; inactive customers are not synced.",
        "Kunden «{name}» er inaktiv; inaktive kunder synkroniseres ikke.",
    ),
    ReasonCode.EMPLOYEE_NO_LAST_NAME: (
        "Employee '{name}' has no last name; employees need a last name.",
        "Den ansatte «{name}» mangler etternavn; ansatte må ha etternavn.",
    ),
    ReasonCode.EMPLOYEE_NO_EMAIL: (
        "Employee '{name}' has no e-mail; created in Tripletex without login access (NO_ACCESS).",
        "Den ansatte «{name}» mangler e-post; opprettes i Tripletex uten innlogging (NO_ACCESS).",
    ),
    ReasonCode.NAME_MISSING: (
        "The record has no name.",
        "Oppføringen mangler navn.",
    ),
    ReasonCode.FIELD_TOO_LONG: (
        "Field '{field}' is longer than {limit} characters.",
        "Feltet «{field}» er lengre enn {limit} tegn.",
    ),
    ReasonCode.ORG_NUMBER_INVALID: (
        "Organisation number '{value}' is not a valid Norwegian organisation number.",
        "Organisasjonsnummeret «{value}» er ikke et gyldig norsk organisasjonsnummer.",
    ),
    ReasonCode.EMAIL_INVALID: (
        "E-mail address '{value}' is not valid.",
        "E-postadressen «{value}» er ikke gyldig.",
    ),
    # Matching outcomes name the records involved (ids and names, at most five and "and N
    # more") and say what the tenant can do; see sync.plan for how the lists are written.
    ReasonCode.AMBIGUOUS_MATCH: (
        "'{name}' matches {candidates} in {system} by {key}, but not one to one{why}. Nothing "
        "was linked or created for it: merge the duplicates or correct the {key}, then run the "
        "sync again; or link it by hand to the right one (`svenn-sync link`, or the Logg "
        "page's button «Dette er samme kunde»), or say they are different "
        "(`svenn-sync keep-apart`, or «Dette er ulike kunder»).",
        "«{name}» passer med {candidates_no} i {system} på {key_no}, men ikke én til én{why_no}. "
        "Ingenting er koblet eller opprettet for den: slå sammen duplikatene eller rett "
        "{key_no}, og kjør synkroniseringen på nytt; eller koble den manuelt til den riktige "
        "(`svenn-sync link`, eller knappen «Dette er samme kunde» i Loggen), eller si at de er "
        "ulike (`svenn-sync keep-apart`, eller «Dette er ulike kunder»).",
    ),
    ReasonCode.MATCH_CONFLICT: (
        "'{name}' matches {candidates} in {system} by {key}, but their {conflict} differs. "
        "Nothing was linked or created for it: correct the {conflict} that is wrong in Svenn or "
        "Tripletex, then run the sync again; or link the records by hand (`svenn-sync link`, or "
        "the Logg page's button «Dette er samme kunde»), or say they are different "
        "(`svenn-sync keep-apart`, or «Dette er ulike kunder»).",
        "«{name}» passer med {candidates_no} i {system} på {key_no}, men {conflict_no} er ulik. "
        "Ingenting er koblet eller opprettet for den: rett {conflict_no} som er feil i Svenn "
        "eller Tripletex, og kjør synkroniseringen på nytt; eller koble manuelt "
        "(`svenn-sync link`, eller knappen «Dette er samme kunde» i Loggen), eller si at de er "
        "ulike (`svenn-sync keep-apart`, eller «Dette er ulike kunder»).",
    ),
    ReasonCode.DUPLICATE_IN_SOURCE: (
        "'{name}' is a duplicate in {source} of {duplicates} (same {key}){counterpart}. It was "
        "not created in {system}, so the company or person is not there twice: merge the "
        "duplicates in {source}, then run the sync again; or confirm it by hand as a duplicate "
        "that stays out (`svenn-sync link --of`, or the Logg page's button «Dette er samme "
        "kunde»), or say it is not one (`svenn-sync keep-apart --of`, or «Dette er ulike "
        "kunder»).",
        "«{name}» er et duplikat i {source} av {duplicates_no} (samme {key_no}){counterpart_no}. "
        "Den er ikke opprettet i {system}, så den finnes ikke to ganger der: slå sammen "
        "duplikatene i {source}, og kjør synkroniseringen på nytt; eller bekreft manuelt at "
        "den er et duplikat som holdes utenfor (`svenn-sync link --of`, eller knappen «Dette er "
        "samme kunde» i Loggen), eller si at den ikke er det (`svenn-sync keep-apart --of`, "
        "eller «Dette er ulike kunder»).",
    ),
    ReasonCode.TARGET_REJECTED: (
        "{system} rejected the record: {detail}",
        "{system} avviste oppføringen: {detail}",
    ),
    ReasonCode.TARGET_UNAVAILABLE: (
        "{system} could not be reached; the record will be retried.",
        "Fikk ikke kontakt med {system}; oppføringen prøves på nytt.",
    ),
    ReasonCode.EXPECTATION_FAILED: (
        "A data check failed: {detail}",
        "En datakontroll feilet: {detail_no}",
    ),
    ReasonCode.HOURS_NOT_APPROVED: (
        "Hours on {date} are '{status}'; only approved hours are exported.",
        "Timene {date} har status «{status}»; bare godkjente timer overføres.",
    ),
    ReasonCode.HOURS_ZERO: (
        "Hours on {date} are zero; zero hours are not exported.",
        "Timene {date} er null; timer uten varighet overføres ikke.",
    ),
    ReasonCode.HOURS_NO_PROJECT: (
        "Hours on {date} have no project; only hours on a project are exported.",
        "Timene {date} mangler prosjekt; bare timer på prosjekt overføres.",
    ),
    ReasonCode.HOURS_EMPLOYEE_NOT_LINKED: (
        "The employee of the hours on {date} is not synced to Tripletex.",
        "Den ansatte for timene {date} er ikke synkronisert til Tripletex.",
    ),
    ReasonCode.HOURS_PROJECT_NOT_LINKED: (
        "The project of the hours on {date} is not synced to Tripletex.",
        "Prosjektet for timene {date} er ikke synkronisert til Tripletex.",
    ),
    ReasonCode.HOURS_LOCKED: (
        "The hours on {date} are locked in Tripletex ({period} is approved or closed); "
        "reopen {period} in Tripletex and the next export sends the change.",
        "Timene {date} er låst i Tripletex ({period} er godkjent eller lukket); "
        "åpne {period} i Tripletex, så sendes endringen ved neste overføring.",
    ),
    ReasonCode.HOURS_NO_ACTIVITY: (
        "The hours on {date} (task '{task}') have no Tripletex activity allowed on the project.",
        "Timene {date} (oppgave «{task}») har ingen aktivitet som kan brukes på prosjektet "
        "i Tripletex.",
    ),
    ReasonCode.HOURS_ENTRY_EXISTS: (
        "Tripletex already has hours for this employee, date, project and activity "
        "(entry {entry}) that the export did not send; they were left as they are.",
        "Tripletex har allerede timer for denne ansatte, dagen, prosjektet og aktiviteten "
        "(post {entry}) som ikke ble sendt herfra; de er ikke endret.",
    ),
    ReasonCode.HOURS_CHANGED_IN_TRIPLETEX: (
        "The entry for the hours on {date} was changed by hand in Tripletex ({change}); "
        "the approved hours in Svenn were written over it.",
        "Timeposten for {date} ble endret manuelt i Tripletex ({change}); "
        "de godkjente timene fra Svenn ble skrevet over.",
    ),
    ReasonCode.ENTITY_NOT_SYNCED_IN_DIRECTION: (
        "Hours only go from Svenn to Tripletex.",
        "Timer overføres bare fra Svenn til Tripletex.",
    ),
    ReasonCode.CUSTOMER_NUMBER_OUT_OF_RANGE: (
        "Customer '{name}' has customer number {value}; only numbers from 1 to {limit} sync "
        "(Tripletex stores them as 32-bit integers).",
        "Kunden «{name}» har kundenummer {value}; bare numre fra 1 til {limit} synkroniseres "
        "(Tripletex lagrer dem som 32-bits heltall).",
    ),
    ReasonCode.FIELD_CONFLICT: (
        "'{name}' {how}: {detail}. To keep the other value instead, "
        "answer this row by hand (`svenn-sync failures resolve --keep`, or the Logg page's "
        "button «Behold denne verdien» under that value).",
        "«{name}» {how_no}: {detail_no}. Vil du heller beholde den andre "
        "verdien, svar på denne raden manuelt (`svenn-sync failures resolve --keep`, eller "
        "knappen «Behold denne verdien» under den verdien i Loggen).",
    ),
    ReasonCode.CHANGE_NOT_SYNCED: (
        "'{name}': {detail}",
        "«{name}»: {detail_no}",
    ),
    ReasonCode.DELETE_NOT_SYNCED: (
        "'{name}' was deleted in {system}; {detail}",
        "«{name}» ble slettet i {system}; {detail_no}",
    ),
    ReasonCode.STALE_VERSION: (
        "'{name}' changed again in {system} while we wrote it, twice; it is retried on its "
        "next change.",
        "«{name}» ble endret igjen i {system} mens vi skrev, to ganger; det prøves igjen ved "
        "neste endring.",
    ),
    # Filled by sync.malformed.malformed_failure: the value is shown as received (as JSON).
    ReasonCode.MALFORMED_RECORD: (
        "{system} sent {entity} {record_id} with a field that cannot be read: '{field}' is "
        "{value} ({problem}). Fix the record in {system}; the rest of the sync went on.",
        "{system} sendte {entity_no} {record_id} med et felt som ikke kan leses: «{field}» er "
        "{value} ({problem_no}). Rett oppføringen i {system}; resten av synkroniseringen "
        "fortsatte.",
    ),
    # A record whose counterpart (or a record it cannot be told from) could not be read: it is
    # held back, not linked to something else and not created twice.
    ReasonCode.COUNTERPART_MALFORMED: (
        "'{name}' matches {candidates} in {other} by {key}, which {other} sent with a field "
        "that cannot be read (see its MALFORMED_RECORD failure). Nothing was linked or created "
        "for it: fix that record in {other}, then run the sync again.",
        "«{name}» passer med {candidates_no} i {other} på {key_no}, som {other} sendte med et "
        "felt som ikke kan leses (se feilen for den oppføringen). Ingenting er koblet eller "
        "opprettet for den: rett den oppføringen i {other}, og kjør synkroniseringen på nytt.",
    ),
}


class _Context(dict[str, object]):
    """Format context that shows a dash for a placeholder the caller did not give."""

    def __missing__(self, key: str) -> str:
        return "–"


def message(code: ReasonCode, **context: object) -> tuple[str, str]:
    """The (English, Norwegian) message for ``code`` with ``context`` filled in."""
    english, norwegian = MESSAGES[code]
    values = _Context(context)
    return english.format_map(values), norwegian.format_map(values)


@dataclass(frozen=True)
class RuleViolation:
    """One rule a record breaks; ``blocking=False`` is a notice (the record still syncs)."""

    code: ReasonCode
    message_en: str
    message_no: str
    field: str | None = None
    blocking: bool = True


def violation(
    code: ReasonCode, field: str | None = None, *, blocking: bool = True, **context: object
) -> RuleViolation:
    """Build a violation with its messages."""
    english, norwegian = message(code, field=field, **context)
    return RuleViolation(code, english, norwegian, field, blocking)


def is_blocked(violations: list[RuleViolation]) -> bool:
    """True when any violation stops the record from syncing."""
    return any(v.blocking for v in violations)


def tripletex_user_type(employee: Employee) -> Literal["STANDARD", "NO_ACCESS"]:
    """User type to create in Tripletex: login users need an e-mail, the rest get NO_ACCESS."""
    return "STANDARD" if normalize.email(employee.email) else "NO_ACCESS"


def check_record(record: Record, direction: Direction) -> list[RuleViolation]:
    """The rules ``record`` breaks when it travels in ``direction`` (empty when it may sync)."""
    if isinstance(record, Customer):
        return _customer_rules(record, direction)
    if isinstance(record, Employee):
        return _employee_rules(record, direction)
    if isinstance(record, Project):
        return _project_rules(record, direction)
    if isinstance(record, HourEntry):
        return _hour_rules(record, direction)
    return []


def _common_rules(record: Customer | Employee, name: str) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    if record.email is not None and record.email.strip():
        if normalize.email(record.email) is None:
            found.append(violation(ReasonCode.EMAIL_INVALID, "email", value=record.email))
        elif len(record.email.strip()) > EMAIL_MAX_LENGTH:
            found.append(violation(ReasonCode.FIELD_TOO_LONG, "email", limit=EMAIL_MAX_LENGTH))
    return found


def _customer_rules(customer: Customer, direction: Direction) -> list[RuleViolation]:
    name = customer.name.strip()
    found: list[RuleViolation] = []
    if not name:
        found.append(violation(ReasonCode.NAME_MISSING, "name"))
    elif len(name) > NAME_MAX_LENGTH:
        found.append(violation(ReasonCode.FIELD_TOO_LONG, "name", limit=NAME_MAX_LENGTH))
    if not customer.is_active:
        found.append(violation(ReasonCode.CUSTOMER_INACTIVE, "is_active", name=name))
    number = customer.customer_number
    if isinstance(number, str) and number.strip():
        found.append(
            violation(
                ReasonCode.CUSTOMER_NUMBER_NOT_NUMERIC, "customer_number", name=name, value=number
            )
        )
    elif isinstance(number, int) and not 0 < number <= CUSTOMER_NUMBER_MAX:
        found.append(
            violation(
                ReasonCode.CUSTOMER_NUMBER_OUT_OF_RANGE,
                "customer_number",
                name=name,
                value=number,
                limit=CUSTOMER_NUMBER_MAX,
            )
        )
    raw_org = customer.organization_number
    if raw_org and raw_org.strip() and normalize.org_number(raw_org) is None:
        found.append(violation(ReasonCode.ORG_NUMBER_INVALID, "organization_number", value=raw_org))
    return found + _common_rules(customer, name)


def _employee_rules(employee: Employee, direction: Direction) -> list[RuleViolation]:
    name = " ".join(part for part in (employee.first_name, employee.last_name) if part).strip()
    found: list[RuleViolation] = []
    if not employee.first_name.strip():
        found.append(violation(ReasonCode.NAME_MISSING, "first_name"))
    if not (employee.last_name or "").strip():
        found.append(violation(ReasonCode.EMPLOYEE_NO_LAST_NAME, "last_name", name=name))
    for field in ("first_name", "last_name"):
        if len(getattr(employee, field) or "") > PERSON_NAME_MAX_LENGTH:
            found.append(violation(ReasonCode.FIELD_TOO_LONG, field, limit=PERSON_NAME_MAX_LENGTH))
    found += _common_rules(employee, name)
    email = (employee.email or "").strip()
    too_long = len(email) > EMPLOYEE_EMAIL_MAX_LENGTH and normalize.email(email) is not None
    if direction is Direction.SVENN_TO_TRIPLETEX and too_long:
        found.append(violation(ReasonCode.FIELD_TOO_LONG, "email", limit=EMPLOYEE_EMAIL_MAX_LENGTH))
    no_email = not (employee.email or "").strip()
    if direction is Direction.SVENN_TO_TRIPLETEX and no_email:
        found.append(violation(ReasonCode.EMPLOYEE_NO_EMAIL, "email", blocking=False, name=name))
    return found


def _project_rules(project: Project, direction: Direction) -> list[RuleViolation]:
    name = project.name.strip()
    found: list[RuleViolation] = []
    if not name:
        found.append(violation(ReasonCode.NAME_MISSING, "name"))
    elif len(name) > NAME_MAX_LENGTH:
        found.append(violation(ReasonCode.FIELD_TOO_LONG, "name", limit=NAME_MAX_LENGTH))
    if project.start_date is None:
        found.append(violation(ReasonCode.PROJECT_NO_START_DATE, "start_date", name=name))
    elif project.end_date is not None and project.end_date < project.start_date:
        found.append(violation(ReasonCode.PROJECT_END_BEFORE_START, "end_date", name=name))
    if project.parent_project_id is not None:
        found.append(violation(ReasonCode.PROJECT_IS_SUBPROJECT, "parent_project_id", name=name))
    if project.is_internal:
        found.append(violation(ReasonCode.PROJECT_IS_INTERNAL, "is_internal", name=name))
    return found


def _hour_rules(entry: HourEntry, direction: Direction) -> list[RuleViolation]:
    if direction is Direction.TRIPLETEX_TO_SVENN:
        return [violation(ReasonCode.ENTITY_NOT_SYNCED_IN_DIRECTION)]
    found: list[RuleViolation] = []
    date = entry.date.isoformat()
    if entry.status != "approved":
        found.append(
            violation(ReasonCode.HOURS_NOT_APPROVED, "status", date=date, status=entry.status)
        )
    if entry.hours == Decimal(0):
        found.append(violation(ReasonCode.HOURS_ZERO, "hours", date=date))
    if entry.project_id is None:
        found.append(violation(ReasonCode.HOURS_NO_PROJECT, "project_id", date=date))
    return found
