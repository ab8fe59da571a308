"""What the tenant reads: the integration's status and each log row's "what to do", in Norwegian.

The tenant's side (the status API and the "Logg" page) shows Norwegian only in words a tenant
understands: reason codes stay a separate field, never inside these sentences. Each reason code
has a short title (what kind of problem it is) and one sentence saying what the tenant can do;
a code without an entry of its own falls back to "correct the record where it came from".
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.entities import LABELS_NO
from sync.records import Entity
from sync.rules import ReasonCode as R

STATUS_TEXT: dict[str, str] = {
    "off": "Ikke slått på",
    "review": "Gjennomgang",
    "approved": "Aktiv – første synkronisering starter",
    "syncing": "Aktiv – første synkronisering pågår",
    "active": "Aktiv",
    "rejected": "Avslått",
    "disabled": "Slått av",
    "failed": "Feil",
}

# The entities as the Logg page names them, in the order its filter lists them.
ENTITY_TEXT: dict[str, str] = {
    entity.value: LABELS_NO[entity].capitalize()
    for entity in (Entity.CUSTOMER, Entity.EMPLOYEE, Entity.PROJECT, Entity.HOURS)
}

FIX_AT_SOURCE = "Rett oppføringen der den ble laget; endringen prøves på nytt av seg selv."
NOTHING_TO_DO = "Du trenger ikke gjøre noe: dette synkroniseres ikke, med vilje."
FIX_CUSTOMER_FIRST = "Rett kunden først (se kunden i loggen); prosjektet følger etter."
FIX_MANAGER_FIRST = "Rett prosjektlederen først (se den ansatte i loggen); prosjektet følger etter."
MERGE_DUPLICATES = "Slå sammen duplikatene, så prøves oppføringen på nytt."
HOURS_FIX_IN_SVENN = "Rett timene i Svenn; de sendes ved neste overføring."


@dataclass(frozen=True)
class ReasonText:
    """A reason in the tenant's words: what kind of problem, and what to do about it."""

    title: str
    what_to_do: str


REASON_TEXT: dict[R, ReasonText] = {
    R.PROJECT_NO_START_DATE: ReasonText(
        "Prosjekt uten startdato", "Gi prosjektet en startdato, så synkroniseres det."
    ),
    R.PROJECT_IS_SUBPROJECT: ReasonText("Underprosjekt", NOTHING_TO_DO),
    R.PROJECT_IS_INTERNAL: ReasonText("Internprosjekt", NOTHING_TO_DO),
    R.PROJECT_END_BEFORE_START: ReasonText(
        "Sluttdato før startdato", "Rett start- eller sluttdatoen på prosjektet."
    ),
    R.PROJECT_CUSTOMER_NOT_LINKED: ReasonText("Kunden mangler", FIX_CUSTOMER_FIRST),
    R.PROJECT_MANAGER_NOT_LINKED: ReasonText("Prosjektlederen mangler", FIX_MANAGER_FIRST),
    R.PROJECT_MANAGER_NO_ACCESS: ReasonText(
        "Prosjektleder uten tilgang",
        "Gi personen tilgang som prosjektleder i Tripletex; prosjektet prøves på nytt.",
    ),
    R.KEY_IN_USE: ReasonText(
        "Nummeret er allerede i bruk",
        "Gi en av oppføringene et annet nummer, eller slå dem sammen.",
    ),
    R.CUSTOMER_NUMBER_NOT_NUMERIC: ReasonText(
        "Kundenummer med bokstaver", "Gi kunden et kundenummer med bare sifre, eller fjern det."
    ),
    R.CUSTOMER_INACTIVE: ReasonText(
        "Inaktiv kunde", "Ingenting, med mindre kunden skal bli aktiv igjen i Tripletex."
    ),
    R.EMPLOYEE_NO_LAST_NAME: ReasonText(
        "Ansatt uten etternavn", "Legg inn etternavnet på den ansatte."
    ),
    R.EMPLOYEE_NO_EMAIL: ReasonText(
        "Ansatt uten e-post",
        "Legg inn e-postadressen hvis personen skal logge inn i Tripletex.",
    ),
    R.NAME_MISSING: ReasonText("Navn mangler", "Gi oppføringen et navn."),
    R.FIELD_TOO_LONG: ReasonText("For lang tekst", "Kort ned feltet som er nevnt."),
    R.ORG_NUMBER_INVALID: ReasonText(
        "Ugyldig organisasjonsnummer",
        "Rett organisasjonsnummeret (ni sifre, slik det står i Brønnøysundregistrene).",
    ),
    R.EMAIL_INVALID: ReasonText("Ugyldig e-postadresse", "Rett e-postadressen."),
    R.AMBIGUOUS_MATCH: ReasonText(
        "Flere mulige treff",
        "Gjør nummer, e-post eller organisasjonsnummer unikt, eller slå sammen duplikatene.",
    ),
    R.MATCH_CONFLICT: ReasonText(
        "Oppføringene stemmer ikke overens",
        "Rett opplysningen som er feil i Svenn eller Tripletex.",
    ),
    R.DUPLICATE_IN_SOURCE: ReasonText("Duplikat", MERGE_DUPLICATES),
    R.TARGET_REJECTED: ReasonText(
        "Avvist av det andre systemet",
        "Les begrunnelsen, rett oppføringen der den ble laget; den prøves på nytt.",
    ),
    R.TARGET_UNAVAILABLE: ReasonText(
        "Fikk ikke kontakt",
        "Du trenger ikke gjøre noe: vi prøver igjen automatisk.",
    ),
    R.EXPECTATION_FAILED: ReasonText(
        "Datakontroll",
        "Sjekk oppføringen; kontakt Svenns kundestøtte om du er usikker.",
    ),
    R.HOURS_NOT_APPROVED: ReasonText(
        "Timer ikke godkjent", "Godkjenn timene i Svenn, så overføres de."
    ),
    R.HOURS_ZERO: ReasonText("Timer uten varighet", NOTHING_TO_DO),
    R.HOURS_NO_PROJECT: ReasonText(
        "Timer uten prosjekt", "Før timene på et prosjekt i Svenn, så overføres de."
    ),
    R.HOURS_EMPLOYEE_NOT_LINKED: ReasonText(
        "Timer holdt tilbake: den ansatte mangler",
        "Rett den ansatte først (se den ansatte i loggen); timene følger etter.",
    ),
    R.HOURS_PROJECT_NOT_LINKED: ReasonText(
        "Timer holdt tilbake: prosjektet mangler",
        "Rett prosjektet først (se prosjektet i loggen); timene følger etter.",
    ),
    R.HOURS_LOCKED: ReasonText(
        "Timer holdt tilbake: perioden er låst",
        "Åpne perioden i Tripletex; timene sendes ved neste overføring.",
    ),
    R.HOURS_NO_ACTIVITY: ReasonText(
        "Timer holdt tilbake: aktivitet mangler",
        "Legg til en aktivitet med samme navn som oppgaven på prosjektet i Tripletex.",
    ),
    R.HOURS_ENTRY_EXISTS: ReasonText(
        "Timer finnes allerede i Tripletex",
        "Sjekk timene i Tripletex og fjern dem som er ført dobbelt.",
    ),
    R.HOURS_CHANGED_IN_TRIPLETEX: ReasonText(
        "Timer endret i Tripletex",
        "Endre timene i Svenn, ikke i Tripletex: Svenn bestemmer for godkjente timer.",
    ),
    R.ENTITY_NOT_SYNCED_IN_DIRECTION: ReasonText("Overføres ikke denne veien", NOTHING_TO_DO),
    R.CUSTOMER_NUMBER_OUT_OF_RANGE: ReasonText(
        "Kundenummeret er for stort", "Gi kunden et kortere kundenummer."
    ),
    R.FIELD_CONFLICT: ReasonText(
        "Ulik verdi i de to systemene",
        "Sjekk at feltet har riktig verdi begge steder; rett det ett sted om ikke.",
    ),
    R.CHANGE_NOT_SYNCED: ReasonText(
        "Endringen ble ikke overført", "Gjør endringen der meldingen sier."
    ),
    R.DELETE_NOT_SYNCED: ReasonText(
        "Sletting ikke overført", "Gjør det meldingen sier i det andre systemet."
    ),
    R.STALE_VERSION: ReasonText(
        "Endret mens vi skrev", "Du trenger ikke gjøre noe: neste endring sendes som vanlig."
    ),
    R.MALFORMED_RECORD: ReasonText(
        "Felt som ikke kan leses", "Rett feltet som er nevnt i systemet som er nevnt."
    ),
    R.COUNTERPART_MALFORMED: ReasonText(
        "Tvillingen kan ikke leses",
        "Rett oppføringen i det andre systemet først (se den i loggen).",
    ),
}


def reason_text(reason_code: str) -> ReasonText:
    """The tenant's title and what-to-do for a stored reason code (any code, known or not)."""
    try:
        return REASON_TEXT[R(reason_code)]
    except (ValueError, KeyError):
        return ReasonText("Ikke synkronisert", FIX_AT_SOURCE)


# The integration's last error (an English sentence written for ops) as one Norwegian sentence
# saying what the tenant can do; the first phrase found decides.
ERROR_TEXT: tuple[tuple[str, str], ...] = (
    (
        "refused the stored key",
        "Tripletex-nøkkelen virker ikke lenger (trukket tilbake eller byttet): "
        "lim inn en ny nøkkel under Markedsplass → Tripletex.",
    ),
    (
        "denied access",
        "Nøkkelen mangler tilganger: lag en ny API-nøkkel med alle tilganger i Tripletex "
        "og lim den inn.",
    ),
    (
        "validation after the initial sync",
        "Kontrollen etter første synkronisering fant problemer: se Loggen; "
        "Svenns kundestøtte er varslet.",
    ),
    (
        "the next tick retries",
        "Det andre systemet svarte ikke; vi prøver igjen automatisk, du trenger ikke gjøre noe.",
    ),
)
UNKNOWN_ERROR = "Synkroniseringen stoppet; Svenns kundestøtte er varslet og tar kontakt."


def error_sentence(last_error: str | None) -> str | None:
    """The last error as one Norwegian sentence saying what to do (None when there is none)."""
    if not last_error:
        return None
    for phrase, sentence in ERROR_TEXT:
        if phrase in last_error:
            return sentence
    return UNKNOWN_ERROR


def status_text(status: str, last_error: str | None = None) -> str:
    """The status as the tenant reads it: "Aktiv", "Gjennomgang", "Feil – <what to do>"."""
    text = STATUS_TEXT.get(status, status)
    if status == "failed":
        return f"{text} – {error_sentence(last_error) or UNKNOWN_ERROR}"
    return text


@dataclass(frozen=True)
class PushText:
    """How Tripletex changes reach Svenn, for the tenant: ``mode`` ("push": webhooks, with the
    poll as a safety net; "polling": the poll alone; "off": nothing is synced now), a stable
    ``reason`` code for programs and one Norwegian sentence."""

    mode: str
    reason: str
    text: str


POLLING_ALONE = "Endringer i Tripletex hentes ved jevnlig avlesning"
# (phrase of the operator's push note, reason code, why in Norwegian): the first match wins.
PUSH_REASONS: tuple[tuple[str, str, str], ...] = (
    (
        "SVENN_SYNC_WEBHOOK_BASE_URL is not set",
        "NOT_CONFIGURED",
        f"{POLLING_ALONE}: varsler fra Tripletex (webhooks) er ikke slått på hos Svenn.",
    ),
    (
        "no permission",
        "NO_PERMISSION",
        f"{POLLING_ALONE}: nøkkelen har ikke tilgang til varsler fra Tripletex (webhooks); "
        "gi nøkkelen den tilgangen for at endringer skal komme med en gang.",
    ),
    (
        "No Tripletex key is stored",
        "NO_KEY",
        f"{POLLING_ALONE}: ingen Tripletex-nøkkel er lagret.",
    ),
    (
        "webhook subscriptions are deleted",
        "TURNED_OFF",
        "Integrasjonen er slått av, og varslene fra Tripletex er fjernet.",
    ),
    (
        "webhooks could not be deleted",
        "TURNED_OFF",
        "Integrasjonen er slått av; varsler fra Tripletex blir avvist.",
    ),
)
PUSH_FAILED = (
    "SUBSCRIBE_FAILED",
    f"{POLLING_ALONE}: Tripletex tok ikke imot abonnementet på varsler; vi prøver igjen selv.",
)
PUSHED = "Endringer i Tripletex kommer med en gang (webhooks); jevnlig avlesning fanger opp resten."
NOT_ACTIVE = "Ingen endringer hentes ennå: integrasjonen er ikke aktiv."
NOT_YET = f"{POLLING_ALONE} til varsler fra Tripletex (webhooks) er satt opp."


def push_text(status: str, push_status: str | None, push_note: str | None) -> PushText:
    """How Tripletex changes arrive, from the integration's ``status`` and the push status and
    note the subscriptions recorded (``integrations show`` prints the same two)."""
    if status != "active":
        for phrase, reason, text in PUSH_REASONS:
            if reason == "TURNED_OFF" and push_note and phrase in push_note:
                return PushText("off", reason, text)
        return PushText("off", "NOT_ACTIVE", NOT_ACTIVE)
    if push_status == "healthy":
        return PushText("push", "SUBSCRIBED", PUSHED)
    if push_status is None or not push_note:
        return PushText("polling", "NOT_YET", NOT_YET)
    for phrase, reason, text in PUSH_REASONS:
        if phrase in push_note:
            return PushText("polling", reason, text)
    return PushText("polling", *PUSH_FAILED)
