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
-- Columns added to the submission format after a warehouse was first bootstrapped.
ALTER TABLE raw.school_rows ADD COLUMN IF NOT EXISTS primary_intake text;

-- Roles are cluster-wide: two warehouses of one cluster bootstrapped at once (a province's and
-- the national one) may both find the role missing; the second CREATE then loses the race.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ministry_reader') THEN
        CREATE ROLE ministry_reader NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
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

-- ---- Counties in the loop: expected county-years, their status, notice deliveries --------
-- One definition of "which county owes which year" and "where a county-year stands", read by
-- dbt (int_counties_expected, marts.submission_status), `edustat status` and the notices
-- (edustat.notices). Owned by the platform, so they work before dbt has built anything.

-- The divisions seed (dbt_project/seeds/divisions.csv), copied here by edustat.divisions
-- (sync_divisions_table) whenever the file changes: the functions below must not depend on
-- a relation dbt drops and recreates.
CREATE TABLE IF NOT EXISTS ops.divisions (
    division_code   text PRIMARY KEY,
    division_name   text NOT NULL,
    division_level  text NOT NULL,
    province_code   text NOT NULL,
    province_name   text,
    prefecture_code text,
    prefecture_name text,
    is_county_unit  boolean NOT NULL
);

-- The county-years counties are asked for.
--   jurisdiction: 2-digit province codes (or xx0000), {national}, or NULL/empty = the provinces
--                 that sent anything (EDUSTAT_JURISDICTION, dbt var 'jurisdiction').
--   first_year:   EDUSTAT_FIRST_YEAR: every county owes every year from it on. NULL: each
--                 province owes the years anyone submitted, from the first year that province
--                 submitted (a province that never did owes only the latest year), so adding
--                 a province today does not make its counties late for years nobody asked of them.
--   through_year: also expect the years up to this one (the notices pass the school year whose
--                 reminders have started on the night's logical date; dbt and the CLI pass NULL).
CREATE OR REPLACE FUNCTION ops.expected_county_years(
    jurisdiction text[] DEFAULT NULL,
    first_year integer DEFAULT NULL,
    through_year integer DEFAULT NULL)
RETURNS TABLE (county_code text, school_year integer, county_name text,
               prefecture_code text, province_code text)
LANGUAGE sql STABLE
AS $fn$
    WITH wanted AS (
        SELECT lower(btrim(j)) AS code
        FROM unnest(coalesce($1, '{}'::text[])) AS j
        WHERE btrim(j) <> ''
    ),
    submitted AS (
        SELECT s.county_code, s.school_year FROM ops.submissions s WHERE s.status <> 'duplicate'
    ),
    provinces AS (
        SELECT DISTINCT left(d.division_code, 2) AS prefix
        FROM ops.divisions d
        WHERE d.is_county_unit
          AND CASE
                WHEN EXISTS (SELECT 1 FROM wanted WHERE code = 'national') THEN true
                WHEN EXISTS (SELECT 1 FROM wanted)
                    THEN left(d.division_code, 2) IN (SELECT left(code, 2) FROM wanted)
                ELSE left(d.division_code, 2) IN (SELECT left(county_code, 2) FROM submitted)
              END
    ),
    years AS (
        SELECT school_year AS y FROM submitted WHERE school_year IS NOT NULL
        UNION SELECT $3 WHERE $3 IS NOT NULL
        UNION SELECT generate_series($2, greatest($2, $3, (SELECT max(school_year) FROM submitted)))
        WHERE $2 IS NOT NULL
    ),
    starts AS (
        SELECT p.prefix,
               coalesce($2,
                        (SELECT min(s.school_year) FROM submitted s
                         WHERE left(s.county_code, 2) = p.prefix),
                        (SELECT max(y) FROM years)) AS from_year
        FROM provinces p
    )
    SELECT d.division_code, years.y, d.division_name,
           left(d.division_code, 4) || '00', left(d.division_code, 2) || '0000'
    FROM ops.divisions d
    JOIN starts ON starts.prefix = left(d.division_code, 2)
    JOIN years ON years.y >= starts.from_year
    WHERE d.is_county_unit
$fn$;

-- Where every county-year stands: the expected ones (expected_county_years, same arguments)
-- and every county-year some file was decided for. status:
--   accepted  the marts serve an accepted file (the newest one, accepted_submission_id);
--   held      validation accepted the newest file but its county-year broke the marts build:
--             the previous accepted file, if any, keeps serving;
--   rejected  only rejected files so far;     missing  nothing received.
-- Files that could not be read have no year: they count per county (files_unreadable), as do
-- files received but not decided yet (files_pending).
-- Its columns grew (held_at, held_reason): a function's result type cannot be replaced.
DROP FUNCTION IF EXISTS ops.county_year_status(text[], integer, integer);
CREATE OR REPLACE FUNCTION ops.county_year_status(
    jurisdiction text[] DEFAULT NULL,
    first_year integer DEFAULT NULL,
    through_year integer DEFAULT NULL)
RETURNS TABLE (county_code text, school_year integer, county_name text,
               prefecture_code text, province_code text,
               expected boolean, in_jurisdiction boolean, status text,
               accepted_submission_id bigint, accepted_at timestamptz,
               accepted_file_name text, warnings integer, replaced_submission_id bigint,
               held_submission_id bigint, held_at timestamptz, held_reason text,
               last_rejected_submission_id bigint, last_rejected_at timestamptz,
               last_rejection_reason text, last_rejected_errors integer,
               files_received integer, files_rejected integer,
               files_pending integer, files_unreadable integer)
LANGUAGE sql STABLE
AS $fn$
    WITH expected AS (
        SELECT * FROM ops.expected_county_years($1, $2, $3)
    ),
    decided AS (
        SELECT s.* FROM ops.submissions s
        WHERE s.school_year IS NOT NULL AND s.status IN ('accepted', 'held', 'rejected')
    ),
    grid AS (
        SELECT e.county_code, e.school_year FROM expected e
        UNION
        SELECT d.county_code, d.school_year FROM decided d
    ),
    accepted AS (
        SELECT DISTINCT ON (d.county_code, d.school_year) d.*
        FROM decided d WHERE d.status = 'accepted'
        ORDER BY d.county_code, d.school_year, d.received_at DESC, d.submission_id DESC
    ),
    newest_valid AS (
        SELECT DISTINCT ON (d.county_code, d.school_year) d.*
        FROM decided d WHERE d.status IN ('accepted', 'held')
        ORDER BY d.county_code, d.school_year, d.received_at DESC, d.submission_id DESC
    ),
    last_rejected AS (
        SELECT DISTINCT ON (d.county_code, d.school_year) d.*
        FROM decided d WHERE d.status = 'rejected'
        ORDER BY d.county_code, d.school_year, d.received_at DESC, d.submission_id DESC
    ),
    received AS (
        SELECT s.county_code, s.school_year,
               count(*) FILTER (WHERE s.status <> 'duplicate')::integer AS files_received,
               count(*) FILTER (WHERE s.status = 'rejected')::integer AS files_rejected
        FROM ops.submissions s WHERE s.school_year IS NOT NULL
        GROUP BY s.county_code, s.school_year
    ),
    per_county AS (
        SELECT s.county_code,
               count(*) FILTER (WHERE s.status = 'received')::integer AS files_pending,
               count(*) FILTER (WHERE s.status = 'rejected' AND s.school_year IS NULL)::integer
                   AS files_unreadable
        FROM ops.submissions s GROUP BY s.county_code
    ),
    jurisdiction_counties AS (
        SELECT DISTINCT e.county_code FROM expected e
    )
    SELECT g.county_code, g.school_year,
           d.division_name,
           left(g.county_code, 4) || '00', left(g.county_code, 2) || '0000',
           e.county_code IS NOT NULL,
           j.county_code IS NOT NULL,
           CASE
               WHEN v.status = 'held' THEN 'held'
               WHEN a.submission_id IS NOT NULL THEN 'accepted'
               WHEN r.submission_id IS NOT NULL THEN 'rejected'
               ELSE 'missing'
           END,
           a.submission_id, a.received_at, a.file_name, a.warnings, a.replaced_submission_id,
           CASE WHEN v.status = 'held' THEN v.submission_id END,
           CASE WHEN v.status = 'held' THEN v.received_at END,
           CASE WHEN v.status = 'held' THEN v.held_reason END,
           r.submission_id, r.received_at, r.rejection_reason, r.errors,
           coalesce(n.files_received, 0), coalesce(n.files_rejected, 0),
           coalesce(c.files_pending, 0), coalesce(c.files_unreadable, 0)
    FROM grid g
    LEFT JOIN ops.divisions d ON d.division_code = g.county_code
    LEFT JOIN expected e ON e.county_code = g.county_code AND e.school_year = g.school_year
    LEFT JOIN jurisdiction_counties j ON j.county_code = g.county_code
    LEFT JOIN accepted a ON a.county_code = g.county_code AND a.school_year = g.school_year
    LEFT JOIN newest_valid v ON v.county_code = g.county_code AND v.school_year = g.school_year
    LEFT JOIN last_rejected r ON r.county_code = g.county_code AND r.school_year = g.school_year
    LEFT JOIN received n ON n.county_code = g.county_code AND n.school_year = g.school_year
    LEFT JOIN per_county c ON c.county_code = g.county_code
$fn$;

-- Every message the platform tried to deliver, one row per destination: the night it belongs
-- to, what it was, who it was for and what happened. Destinations are stored as Apprise's
-- privacy URL without credentials or secret query values (edustat.alerting.delivery.redact).
-- Reminders and late notices are sent at most once a week per county, year and destination:
-- the notices read reminder_years / late_years here.
CREATE TABLE IF NOT EXISTS ops.deliveries (
    delivery_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id         text NOT NULL,
    logical_date   timestamptz NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('county_notice', 'reminder', 'region_digest',
                                                 'full_digest', 'task_failure')),
    region_code    text,          -- county, prefecture, province code, 'national'; NULL: EDUSTAT_ALERT_URLS
    reminder_years integer[] NOT NULL DEFAULT '{}',
    late_years     integer[] NOT NULL DEFAULT '{}',
    destination    text NOT NULL,
    outcome        text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'invalid')),
    attempts       integer NOT NULL DEFAULT 0,
    error          text,
    title          text,
    sent_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS deliveries_region ON ops.deliveries (region_code, logical_date);
CREATE INDEX IF NOT EXISTS deliveries_run ON ops.deliveries (run_id);

-- Deliveries of the run that failed (failed or invalid destination): the run summary says so.
ALTER TABLE ops.runs ADD COLUMN IF NOT EXISTS alerts_failed integer NOT NULL DEFAULT 0;
