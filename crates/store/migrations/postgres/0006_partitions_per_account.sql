-- Each account's rows of a data table live in a partition of their own (LIST by account_id),
-- named by `ebay_import_partition`. A job that writes an account's first rows of a table
-- creates the partition as a standalone table in its data transaction, copies the rows
-- straight into it (no staging, no upsert, no index to maintain), and attaches it before
-- the commit: the attach builds the partition's indexes in one pass each and takes only a
-- SHARE UPDATE EXCLUSIVE lock on the parent, which imports into existing accounts never wait
-- for (two new accounts' attaches take turns).
-- Row-level security stays on the parents, where the application queries, and each
-- partition gets the same policy and grants, so reading a partition directly shows nothing
-- more.

CREATE FUNCTION ebay_import_partition(t text, account uuid) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT t || '_' || replace(account::text, '-', '') $$;

-- Grants on `target` what is granted on `source` (to others than its owner).
CREATE FUNCTION ebay_import_copy_grants(source text, target text) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END AS who,
                    x.privilege_type
             FROM pg_class c, aclexplode(c.relacl) x
             WHERE c.oid = source::regclass AND x.grantee <> c.relowner LOOP
        EXECUTE format('GRANT %s ON %I TO %s', g.privilege_type, target, g.who);
    END LOOP;
END
$$;

-- A standalone table shaped as `t`, for the account's rows only, to be attached later.
CREATE FUNCTION ebay_import_new_partition(t text, account uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE format(
        'CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS, CONSTRAINT account_only CHECK (account_id = %L))',
        ebay_import_partition(t, account), t, account);
END
$$;

-- Attaches the account's standalone table to `t`, with the grants of `t` (the engine writes
-- an account's rows to its partition directly) and the policy of every data table. The CHECK
-- constraint spares the attach a scan of the rows.
CREATE FUNCTION ebay_import_attach(t text, account uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    p text := ebay_import_partition(t, account);
BEGIN
    PERFORM ebay_import_copy_grants(t, p);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', p);
    EXECUTE format(
        'CREATE POLICY account_isolation ON %I '
        'USING (account_id = NULLIF(current_setting(''ebay_import.account_id'', true), '''')::uuid) '
        'WITH CHECK (account_id = NULLIF(current_setting(''ebay_import.account_id'', true), '''')::uuid)',
        p);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%L)', t, p, account);
END
$$;

-- An empty partition for the account, for a role that may write the data tables but not
-- create or attach tables (a loader that is not their owner): it runs as this function's
-- owner, for partitioned tables of this schema only.
CREATE FUNCTION ebay_import_add_partition(t text, account uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_class
        WHERE oid = to_regclass(t) AND relkind = 'p' AND relnamespace = current_schema()::regnamespace
    ) THEN
        RAISE EXCEPTION 'ebay_import_add_partition: % is not a partitioned data table', t;
    END IF;
    IF to_regclass(ebay_import_partition(t, account)) IS NULL THEN
        PERFORM ebay_import_new_partition(t, account);
        PERFORM ebay_import_attach(t, account);
    END IF;
END
$$;

-- Every data table becomes partitioned: same columns, keys, indexes, policy and grants; the
-- rows of each account move into its partition.
DO $$
DECLARE
    t text;
    old text;
    pk text;
    defs text[];
    i record;
    a uuid;
BEGIN
    FOREACH t IN ARRAY ARRAY['orders', 'order_items', 'listings', 'products', 'customers'] LOOP
        old := t || '_unpartitioned';
        SELECT pg_get_constraintdef(oid) INTO pk
            FROM pg_constraint WHERE conrelid = t::regclass AND contype = 'p';
        SELECT coalesce(array_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid), '{}') INTO defs
            FROM pg_index WHERE indrelid = t::regclass AND NOT indisprimary;
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t, old);
        FOR i IN SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
                 WHERE x.indrelid = old::regclass LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I', i.relname, i.relname || '_unpartitioned');
        END LOOP;
        EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY', old);

        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS) PARTITION BY LIST (account_id)', t, old);
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, t || '_pkey', pk);
        FOR i IN SELECT unnest(defs) AS def LOOP
            EXECUTE i.def;
        END LOOP;
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY account_isolation ON %I '
            'USING (account_id = NULLIF(current_setting(''ebay_import.account_id'', true), '''')::uuid) '
            'WITH CHECK (account_id = NULLIF(current_setting(''ebay_import.account_id'', true), '''')::uuid)',
            t);
        PERFORM ebay_import_copy_grants(old, t);

        FOR a IN EXECUTE format('SELECT DISTINCT account_id FROM %I', old) LOOP
            PERFORM ebay_import_new_partition(t, a);
            EXECUTE format('INSERT INTO %I SELECT * FROM %I WHERE account_id = %L',
                           ebay_import_partition(t, a), old, a);
            PERFORM ebay_import_attach(t, a);
        END LOOP;
        EXECUTE format('DROP TABLE %I', old);
    END LOOP;
END
$$;
