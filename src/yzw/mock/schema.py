"""The mock platform's tables: one database for all nodes (and replicas), node-keyed."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS systems (app_id TEXT PRIMARY KEY, secret TEXT NOT NULL, kind TEXT NOT NULL,
    record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, app_id TEXT NOT NULL, scope TEXT NOT NULL,
    expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, issued_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (node TEXT NOT NULL, app_id TEXT NOT NULL, nonce TEXT NOT NULL,
    seen_at REAL NOT NULL, PRIMARY KEY (node, app_id, nonce));
CREATE TABLE IF NOT EXISTS tickets (ticket TEXT PRIMARY KEY, user_record TEXT NOT NULL, issued_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS items (item_code TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (item_code, version));
CREATE TABLE IF NOT EXISTS own_items (item_code TEXT PRIMARY KEY, dept_uscc TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS licenses (license_id TEXT PRIMARY KEY, body TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (node TEXT NOT NULL, event_id TEXT NOT NULL, application_no TEXT NOT NULL,
    case_no TEXT, seq INTEGER NOT NULL, step TEXT NOT NULL, dept_uscc TEXT NOT NULL, division_code TEXT NOT NULL,
    body TEXT NOT NULL, receipt_id TEXT NOT NULL, received_at TEXT NOT NULL, delay_seconds REAL NOT NULL,
    origin TEXT NOT NULL, PRIMARY KEY (node, event_id));
CREATE INDEX IF NOT EXISTS events_by_application ON events (node, application_no, seq);
CREATE INDEX IF NOT EXISTS events_by_case ON events (node, case_no);
CREATE TABLE IF NOT EXISTS histories (node TEXT NOT NULL, application_no TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (node, application_no));
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL, target TEXT NOT NULL,
    body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (node TEXT NOT NULL, application_no TEXT NOT NULL, next_check REAL,
    body TEXT NOT NULL, PRIMARY KEY (node, application_no));
CREATE INDEX IF NOT EXISTS cases_to_check ON cases (node, next_check);
CREATE TABLE IF NOT EXISTS cards (node TEXT NOT NULL, card_id TEXT NOT NULL, case_no TEXT, body TEXT NOT NULL,
    PRIMARY KEY (node, card_id));
CREATE TABLE IF NOT EXISTS records (node TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (node, kind, key));
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
