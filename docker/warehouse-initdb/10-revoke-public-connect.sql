-- Runs once, when the warehouse volume is first initialised (postgres image's initdb.d).
-- Postgres lets every role connect to every database: on this dedicated server only the
-- edustat database is reachable for others (edustat.warehouse.bootstrap grants CONNECT there
-- to ministry_reader and revokes it from PUBLIC).
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
