-- Rounds of background work (the fleet sweep), claimed by one process at a time so that
-- several processes on one database file run each round once. Installation-wide, like
-- releases: one sweep covers every tenant.
CREATE TABLE background_runs (
    job         TEXT NOT NULL PRIMARY KEY,
    started_ms  INTEGER NOT NULL,
    holder      TEXT NOT NULL
) WITHOUT ROWID;
