"""The reference departmental system: a system that does what the norm asks, for the kit to certify and to
show vendors what right looks like. Built up issue by issue; see README ("The reference system")."""
