"""The Postgres warehouse: where it is (DSN or embedded server), its bootstrap, COPY loads."""
