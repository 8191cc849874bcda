-- Reports' table in the audit trail (accounts/sql/audit.sql: registry_audit writes the
-- entries, registry_audit_attach their triggers): a target, filed under its area, its
-- updated_at left out (it changes with every save). Applied by reports 0012 after
-- accounts 0023; reports/apps.py tells the coverage check (verify_derived) how to read it.
SELECT registry_audit_attach('reports_target', '{updated_at}');
