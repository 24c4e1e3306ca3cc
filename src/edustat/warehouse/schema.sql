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

-- Files left in the landing for a later night: still arriving (ops.landing_arrivals).
ALTER TABLE ops.runs ADD COLUMN IF NOT EXISTS arriving integer NOT NULL DEFAULT 0;
-- Why a run did nothing or stopped, in words (zh / en): refused because another night held
-- the warehouse, or closed as failed by a later run after a crash. `message` stays the list
-- of steps that did not finish.
ALTER TABLE ops.runs ADD COLUMN IF NOT EXISTS note text;
-- When the run's digest went out: the decisions it announced (ops.submissions.announced_run_id)
-- are announced for good; a run that crashed before has its claims taken over by the next.
ALTER TABLE ops.runs ADD COLUMN IF NOT EXISTS digest_at timestamptz;

-- One row per received file. status moves received -> accepted | rejected once, in one
-- transaction per night; duplicate rows point at the submission that carried the same bytes.
-- An accepted file whose county-year breaks the marts build becomes held (held_reason: dbt's
-- error); the county's previous accepted file keeps serving (edustat.warehouse.isolation).
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
                           CHECK (status IN ('received', 'accepted', 'rejected', 'duplicate',
                                             'held')),
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
-- Added after the first release: ALTER ... IF NOT EXISTS keeps older warehouses in step.
-- The landing path's bytes as the file system has them: file_name and landing_path are text
-- for people (a name that is not UTF-8, e.g. GBK from a Windows share, shown \x-escaped).
ALTER TABLE ops.submissions ADD COLUMN IF NOT EXISTS landing_path_bytes bytea;
-- held: why (the failing dbt nodes), in which run, and on which dbt project (build_scope
-- fingerprint): a hold is retried when the project changes or the county sends a new file.
ALTER TABLE ops.submissions ADD COLUMN IF NOT EXISTS held_reason text;
ALTER TABLE ops.submissions ADD COLUMN IF NOT EXISTS held_run_id text;
ALTER TABLE ops.submissions ADD COLUMN IF NOT EXISTS held_fingerprint text;
-- The run whose published marts first reflected this decision (build_scope: what is pending).
ALTER TABLE ops.submissions ADD COLUMN IF NOT EXISTS published_run_id text;
-- The run whose digest announced this decision: a night that crashed before its digest has
-- its decisions announced by the next run's.
ALTER TABLE ops.submissions ADD COLUMN IF NOT EXISTS announced_run_id text;
DO $$
BEGIN
    -- A warehouse from before `held`: widen the status check (named by Postgres' default).
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'submissions_status_check'
               AND conrelid = 'ops.submissions'::regclass
               AND pg_get_constraintdef(oid) NOT LIKE '%held%') THEN
        ALTER TABLE ops.submissions DROP CONSTRAINT submissions_status_check;
        ALTER TABLE ops.submissions ADD CONSTRAINT submissions_status_check
            CHECK (status IN ('received', 'accepted', 'rejected', 'duplicate', 'held'));
        -- Everything decided before this version was announced by its own run's digest.
        UPDATE ops.submissions SET announced_run_id = decided_run_id
        WHERE announced_run_id IS NULL AND decided_run_id IS NOT NULL;
        UPDATE ops.runs SET digest_at = coalesce(finished_at, started_at)
        WHERE digest_at IS NULL;
    END IF;
END
$$;
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

-- Files a night saw but left in the landing because they were still arriving: modified less
-- than EDUSTAT_SETTLE_SECONDS before the night (reason 'recent') or open for writing on this
-- machine ('open'). One row per run and file; the next night takes them once settled.
CREATE TABLE IF NOT EXISTS ops.landing_arrivals (
    run_id          text NOT NULL REFERENCES ops.runs (run_id),
    landing_path    text NOT NULL,
    county_folder   text NOT NULL,
    file_name       text NOT NULL,
    size_bytes      bigint NOT NULL,
    modified_at     timestamptz NOT NULL,
    reason          text NOT NULL CHECK (reason IN ('recent', 'open')),
    PRIMARY KEY (run_id, landing_path)
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
