"""The key intake: the one way a tenant's keys enter the system (never a flow parameter)."""
