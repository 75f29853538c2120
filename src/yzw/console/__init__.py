"""`yzw console`: the e-government office's acceptance desk on the web — systems, runs watched live,
operator cards, waivers, certificates — over a database (SQLite file, or PostgreSQL), with staff accounts."""
