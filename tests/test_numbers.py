"""Which numbers travel back after a create (plain data)."""

from __future__ import annotations

from sync.entities import Customer, Employee, Project
from sync.numbers import assigned_numbers


def test_the_number_tripletex_assigned_travels_back_and_an_equal_one_does_not():
    source = Customer(id="cus-1", name="Bygg AS")
    assert assigned_numbers(source, Customer(id="7", name="Bygg AS", customer_number=10001)) == {
        "customer_number": 10001
    }
    numbered = Customer(id="cus-1", name="Bygg AS", customer_number=5)
    assert assigned_numbers(numbered, Customer(id="7", name="Bygg AS", customer_number=5)) == {}
    assert assigned_numbers(
        Project(id="p", name="Tak"), Project(id="9", name="Tak", number="3")
    ) == {"number": "3"}


def test_tripletex_assigns_no_employee_numbers():
    source = Employee(id="emp-1", first_name="Kari", last_name="Nordmann")
    created = Employee(id="5", first_name="Kari", last_name="Nordmann", employee_number="5")
    assert assigned_numbers(source, created) == {}
