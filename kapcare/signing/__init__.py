"""The signed-record kernel: one shape for every record that is a draft until signed and never changes after.

- models.py: the abstract `SignedRecord` (status, signed_at, signed_by, content_hash, the check constraint, the
  model guard) and `Addendum` (a signed correction, append-only);
- operations.py: `SignedRecordTriggers`, the migration operation that makes the database refuse a change to a
  signed row, deleting one, and writing one as signed except through the sign service (PostgreSQL and SQLite);
- services.py: `signing()` (the one door the triggers open) and `record_sign` (the one way a row becomes signed);
- api.py: the sign/addenda actions of a signed record's API; web.py: the page's save-then-sign.
"""
