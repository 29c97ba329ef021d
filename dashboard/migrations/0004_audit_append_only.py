"""Make the database itself refuse UPDATE and DELETE on the audit trail, on PostgreSQL.

The model and its queryset already refuse; this closes raw SQL and any code that bypasses the
ORM. TRUNCATE is left to the table's owner (it needs that right anyway), which is also how the
tests empty the table between runs. SQLite, the embedded default, relies on the model's guard:
its test runs empty tables with DELETE, which a trigger there would refuse.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION dashboard_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER dashboard_auditevent_append_only
    BEFORE UPDATE OR DELETE ON dashboard_auditevent
    FOR EACH ROW EXECUTE FUNCTION dashboard_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS dashboard_auditevent_append_only ON dashboard_auditevent;
DROP FUNCTION IF EXISTS dashboard_audit_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # the SQL has a literal %

    return run


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0003_ownership_and_audit")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
