-- Rounds of background work (the fleet sweep), claimed by one replica at a time so that
-- several replicas on one database run each round once. Installation-wide, like releases: one
-- sweep covers every tenant. `started_ms` is the database's clock, shared by every replica.
CREATE TABLE background_runs (
    job         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    started_ms  BIGINT NOT NULL,
    holder      TEXT NOT NULL
);
