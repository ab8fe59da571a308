"""Every reason whose message tells a person to act by hand names the command that does it, in
English and Norwegian, and every command a message or a remedy names exists in the CLI; every
button of the Logg page a message names («…») is on that reason's rows, and a reason whose rows
carry buttons names them."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer

from cli.main import app
from intake.logg_actions import offered_buttons
from sync.remedies import remedy
from sync.rules import MESSAGES, ReasonCode

COMMAND = re.compile(r"`svenn-sync ([a-z-]+(?: [a-z-]+)*)")
# A request to act by hand; "changed by hand in Tripletex" only tells what happened.
BUTTON = re.compile(r"«((?:Dette er|Behold) [^»]+)»")
BY_HAND = {"en": re.compile(r"(?<!changed )by hand"), "no": re.compile(r"(?<!endret )manuelt")}


def _exists(words: str) -> bool:
    """True when ``svenn-sync <words>`` is a command (its options after it are not checked)."""
    command: Any = typer.main.get_command(app)
    for word in words.split():
        if word.startswith("-") or word.isupper():
            break
        if word not in getattr(command, "commands", {}):
            return False
        command = command.commands[word]
    return not hasattr(command, "commands")  # a command, not a group of them


@pytest.mark.parametrize("code", list(ReasonCode), ids=str)
def test_a_message_that_asks_for_a_hand_names_a_command_that_exists(code):
    english, norwegian = MESSAGES[code]
    named = {lang: COMMAND.findall(text) for lang, text in (("en", english), ("no", norwegian))}
    for lang, text in (("en", english), ("no", norwegian)):
        if BY_HAND[lang].search(text):
            assert named[lang], f"{code} ({lang}) asks for a hand but names no command"
    assert named["en"] == named["no"], f"{code}: English and Norwegian name other commands"
    for words in named["en"] + COMMAND.findall(remedy(code.value)):
        assert _exists(words), f"{code} names `svenn-sync {words}`, which the CLI does not offer"


def test_the_walk_fails_for_a_command_nothing_offers():
    assert _exists("link") and _exists("failures resolve") and _exists("keep-apart --of")
    assert not _exists("merge") and not _exists("failures merge")


@pytest.mark.parametrize("code", list(ReasonCode), ids=str)
def test_a_message_names_the_logg_pages_buttons_its_rows_carry(code):
    english, norwegian = MESSAGES[code]
    named = {lang: set(BUTTON.findall(text)) for lang, text in (("en", english), ("no", norwegian))}
    assert named["en"] == named["no"], f"{code}: English and Norwegian name other buttons"
    offered = offered_buttons(code.value)
    assert named["en"] <= offered, f"{code} names {named['en'] - offered}, not on its rows"
    assert offered <= named["en"], f"{code}'s rows carry {offered - named['en']}, unnamed"


def test_the_button_walk_fails_for_a_button_nothing_offers():
    assert offered_buttons("AMBIGUOUS_MATCH") == {"Dette er samme kunde", "Dette er ulike kunder"}
    assert offered_buttons("FIELD_CONFLICT") == {"Behold denne verdien"}
    assert offered_buttons("TARGET_REJECTED") == set()
