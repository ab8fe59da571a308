"""The state store: integrations, links, cursors, failed records and the hours ledger."""
