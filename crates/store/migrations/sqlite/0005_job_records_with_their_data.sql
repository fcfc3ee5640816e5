-- A job's record is written on the data connection, in the transaction of the rows it
-- describes; a running job is recognised by its lock file beside the database (held while it
-- runs, freed by the system when its process ends), so the recorded owner (host, pid) is gone.
ALTER TABLE import_jobs DROP COLUMN owner;

-- A --commit-every part refreshes a customer the job already wrote from the version the job
-- replaced (as a refresh in one go would), found by key.
CREATE INDEX customers_history_key ON customers_history (account_id, username, replaced_by);
