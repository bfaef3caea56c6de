"""The fault suite (``make faults``): several Daphne processes, PostgreSQL and
a Redis of its own, patrons and librarians on websockets, and faults injected
while they talk. See docs/faults.md.
"""
