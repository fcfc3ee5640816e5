-- A job's record is written on the data connection (in the transaction of the rows it
-- describes), and a running job holds a session advisory lock there, so the recorded owner
-- (host, pid) is gone.
ALTER TABLE import_jobs DROP COLUMN owner;

-- A --commit-every part refreshes a customer the job already wrote from the version the job
-- replaced (as a refresh in one go would), found by key.
CREATE INDEX customers_history_key ON customers_history (account_id, username, replaced_by);

-- Rejects hold rejected values and raw lines (buyer names, emails, addresses), and job records
-- name files and counts: account data, under the same policy as the data tables.
ALTER TABLE import_rejects ADD COLUMN account_id uuid;
UPDATE import_rejects r SET account_id = j.account_id FROM import_jobs j WHERE j.id = r.job_id;
ALTER TABLE import_rejects ALTER COLUMN account_id SET NOT NULL;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['import_jobs', 'import_rejects'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY account_isolation ON %I '
            'USING (account_id = NULLIF(current_setting(''ebay_import.account_id'', true), '''')::uuid) '
            'WITH CHECK (account_id = NULLIF(current_setting(''ebay_import.account_id'', true), '''')::uuid)',
            t
        );
    END LOOP;
END
$$;
