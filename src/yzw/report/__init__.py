"""The certification report of a conformance run: a JSON document with an SM3 digest, and its HTML view."""
