-- Named snapshots of one tenant's rows, or of every tenant's ('*'), for fast resets
-- (`picket snapshot save|restore`). The body is the rows in Picket's portable form (JSON).
CREATE TABLE snapshots (
    scope       TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    rows        BIGINT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (scope, name)
);
