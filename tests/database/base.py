"""The test settings' PostgreSQL backend: Django's, with a faster flush for the tests that flush the database
(transactional tests, the browser journeys' live server).

Django empties every table with one TRUNCATE, which costs a fixed share per table (new files for each of about
170): 1.5-2 s a flush here. The tables of a test are small, so DELETE FROM each is a few milliseconds. The rows it
must remove include signed records and audit events, whose triggers refuse any DELETE; a superuser's session in
`replica` mode fires no ordinary trigger (and no foreign-key check: every table is emptied in the same
transaction). A role that may not set that mode gets Django's TRUNCATE, as does a flush that resets sequences."""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences or not self.connection.is_superuser():
            return super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        deletes = [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))};" for t in tables]
        return ["SET LOCAL session_replication_role = replica;", *deletes]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def is_superuser(self):
        if not hasattr(self, "_is_superuser"):
            with self.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                self._is_superuser = cursor.fetchone()[0]
        return self._is_superuser
