-- The classic sensor release catalogue. Installation-wide, like the signing keys: a release is
-- published once for every tenant.
CREATE TABLE releases (
    version       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    published_at  TEXT COLLATE "C" NOT NULL
);
