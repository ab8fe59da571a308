"""Extracts the expectation suites judge, shared by the in-process tests and the one that runs
the suites in a fresh interpreter (tests/test_expectations.py): the same records either way.

Imports nothing of Great Expectations: the fresh interpreter imports this module first.
"""

from __future__ import annotations

import pandas as pd

from expectations.runner import extract_frame
from sync.entities import Customer, Employee, Project

# Real organisation numbers (Brønnøysundregistrene, Equinor, DNB) with valid check digits.
ORG_A, ORG_B, ORG_C = "974760673", "923609016", "984851006"


def good_customers() -> list[Customer]:
    return [
        Customer(id="c1", name="Fjord Bygg AS", organization_number=ORG_A, email="post@fjord.no"),
        Customer(id="c2", name="Nordlys Rør AS", organization_number=ORG_B),
        Customer(id="c3", name="Ola Nordmann", email="ola.nordmann@example.com"),
        Customer(id="c4", name="Vik Elektro AS", organization_number=ORG_C, email="a.b@vik.co.no"),
    ]


def customers_with_bad_ones() -> pd.DataFrame:
    """The good customers and one of each fault: a shared id, no name, a wrong check digit, a
    short org number, a malformed e-mail."""
    customers = [
        *good_customers(),
        Customer(id="dup", name="Første AS"),
        Customer(id="dup", name="Andre AS"),
        Customer(id="noname", name="placeholder"),
        Customer(id="checkdigit", name="Feil AS", organization_number="974760672"),
        Customer(id="short", name="Kort AS", organization_number="97476067"),
        Customer(id="mail", name="Post AS", email="post@@fjord"),
    ]
    frame = extract_frame(customers)
    frame.loc[frame["id"] == "noname", "name"] = None
    return frame


def good_employees() -> list[Employee]:
    return [
        Employee(id="e1", first_name="Kari", last_name="Nordmann", email="kari@fjord.no"),
        Employee(id="e2", first_name="Per", last_name="Hansen", email="per.hansen@fjord.no"),
        Employee(id="e3", first_name="Åse", last_name="Lie"),
        Employee(id="e4", first_name="Jon", last_name="Berg"),  # two without e-mail is fine
    ]


def employees_with_bad_ones() -> list[Employee]:
    """The good employees, one with a malformed e-mail and one sharing e1's ignoring case."""
    return [
        *good_employees(),
        Employee(id="bad", first_name="Ola", email="ola at fjord.no"),
        Employee(id="upper", first_name="Karianne", email="KARI@Fjord.no"),
    ]


def numbered_projects() -> list[Project]:
    """Two without a number (fine) and p5 repeating p1's number."""
    return [
        Project(id="p1", name="Tak Storgata 1", number="1001"),
        Project(id="p2", name="Bad Lia 3", number="1002"),
        Project(id="p3", name="Uten nummer"),
        Project(id="p4", name="Også uten nummer"),
        Project(id="p5", name="Kopi", number="1001"),
    ]
