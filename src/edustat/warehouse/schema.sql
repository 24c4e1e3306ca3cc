-- Warehouse bootstrap: the schemas the platform writes itself (raw, ops) and the reader role.
-- dbt owns staging, intermediate and marts. Every statement is idempotent: this file runs at
-- the start of every night and of every test database.
-- The school_row_columns placeholder below is filled in from edustat.columns so the raw table has one text column
-- per submission column, exactly as read (normalised) from the county file.

CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS intermediate;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS ops.runs (
    run_id          text PRIMARY KEY,
    logical_date    timestamptz NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'success', 'failed')),
    files_seen      integer NOT NULL DEFAULT 0,
    new_submissions integer NOT NULL DEFAULT 0,
    accepted        integer NOT NULL DEFAULT 0,
    rejected        integer NOT NULL DEFAULT 0,
    duplicates      integer NOT NULL DEFAULT 0,
    warnings        integer NOT NULL DEFAULT 0,
    dbt_status      text,
    -- Pipeline steps that finished in this run: the closing task reads it to tell a
    -- complete night from one where a step failed, without asking the scheduler.
    steps_done      text[] NOT NULL DEFAULT '{}',
    message         text
);

-- One row per received file. status moves received -> accepted | rejected once, in one
-- transaction per night; duplicate rows point at the submission that carried the same bytes.
CREATE TABLE IF NOT EXISTS ops.submissions (
    submission_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    county_code            text NOT NULL,
    school_year            integer,
    file_name              text NOT NULL,
    landing_path           text NOT NULL,
    checksum               text NOT NULL,
    size_bytes             bigint NOT NULL,
    received_at            timestamptz NOT NULL,
    status                 text NOT NULL DEFAULT 'received'
                           CHECK (status IN ('received', 'accepted', 'rejected', 'duplicate')),
    row_count              integer,
    errors                 integer NOT NULL DEFAULT 0,
    warnings               integer NOT NULL DEFAULT 0,
    rejection_reason       text,
    replaced_submission_id bigint REFERENCES ops.submissions (submission_id),
    duplicate_of           bigint REFERENCES ops.submissions (submission_id),
    quarantine_path        text,
    report_path            text,
    run_id                 text NOT NULL REFERENCES ops.runs (run_id),
    decided_run_id         text REFERENCES ops.runs (run_id)
);
-- The same bytes in the same county folder are one submission, whatever the file is called.
CREATE UNIQUE INDEX IF NOT EXISTS submissions_one_per_checksum
    ON ops.submissions (county_code, checksum) WHERE status <> 'duplicate';
CREATE INDEX IF NOT EXISTS submissions_county_year ON ops.submissions (county_code, school_year);

-- Files already looked at: lets discovery skip hashing unchanged files on an incremental night.
CREATE TABLE IF NOT EXISTS ops.landing_files (
    landing_path  text PRIMARY KEY,
    size_bytes    bigint NOT NULL,
    mtime_ns      bigint NOT NULL,
    checksum      text NOT NULL,
    submission_id bigint REFERENCES ops.submissions (submission_id)
);

CREATE TABLE IF NOT EXISTS ops.validation_results (
    submission_id bigint NOT NULL REFERENCES ops.submissions (submission_id),
    run_id        text NOT NULL,
    stage         text NOT NULL CHECK (stage IN ('read', 'validate', 'history')),
    check_id      text NOT NULL,
    severity      text NOT NULL CHECK (severity IN ('critical', 'warning')),
    column_name   text,
    row_number    integer,
    school_code   text,
    value         text,
    failing_count integer NOT NULL DEFAULT 1,
    message_zh    text NOT NULL,
    message_en    text NOT NULL
);
CREATE INDEX IF NOT EXISTS validation_results_submission
    ON ops.validation_results (submission_id);

-- Append-only: every readable received file's rows, values as read (normalised text), with
-- the load metadata on every row. Staging picks the accepted submissions from here.
CREATE TABLE IF NOT EXISTS raw.school_rows (
    submission_id bigint NOT NULL,
    county_folder text NOT NULL,
    file_name     text NOT NULL,
    checksum      text NOT NULL,
    received_at   timestamptz NOT NULL,
    row_number    integer NOT NULL,
{school_row_columns},
    extra         jsonb,
    PRIMARY KEY (submission_id, row_number)
);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ministry_reader') THEN
        CREATE ROLE ministry_reader NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA marts TO ministry_reader;
REVOKE ALL ON SCHEMA raw, ops, staging, intermediate FROM ministry_reader;

-- Postgres lets PUBLIC connect to every database and create temporary tables in it. Here only
-- the platform's own user and ministry_reader may connect, and ministries create nothing.
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I',
                   current_database(), current_user);
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO ministry_reader', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'edustat: not the owner of database %: PUBLIC keeps CONNECT and TEMPORARY',
        current_database();
END
$$;

-- Per-province readers (`edustat grant --province 63 NAME`): a member of a role listed here
-- sees, through the row-level security of every marts table (edustat.warehouse.access),
-- only the rows of its provinces; other members of ministry_reader see every row.
CREATE TABLE IF NOT EXISTS ops.reader_scopes (
    role_name  text PRIMARY KEY,
    provinces  text[] NOT NULL CHECK (cardinality(provinces) > 0),
    granted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The provinces `who` may see, NULL when unrestricted. SECURITY DEFINER: the policies call it
-- as the ministry's login, which has no access to ops.
CREATE OR REPLACE FUNCTION ops.reader_provinces(who name) RETURNS text[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT array_agg(DISTINCT p ORDER BY p)
    FROM ops.reader_scopes s
    JOIN pg_roles r ON r.rolname = s.role_name
    CROSS JOIN LATERAL unnest(s.provinces) p
    WHERE pg_has_role(who, r.oid, 'MEMBER')
$$;
REVOKE ALL ON FUNCTION ops.reader_provinces(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.reader_provinces(name) TO ministry_reader;
