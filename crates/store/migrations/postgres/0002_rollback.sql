-- Rollback: the version of a row that a job replaced, captured in the same transaction as
-- the update. `replaced_by` is the job that replaced it; rolling that job back restores it.
-- A trigger captures it, so inserts (nearly every row of a first import) cost nothing extra;
-- `rollback` itself sets `ebay_import.restoring` so its restores are not captured again.

CREATE TABLE orders_history (LIKE orders, replaced_by uuid NOT NULL);
CREATE INDEX orders_history_replaced_by ON orders_history (replaced_by);
CREATE INDEX orders_history_job ON orders_history (job_id);
CREATE TABLE order_items_history (LIKE order_items, replaced_by uuid NOT NULL);
CREATE INDEX order_items_history_replaced_by ON order_items_history (replaced_by);
CREATE INDEX order_items_history_job ON order_items_history (job_id);

ALTER TABLE orders_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders_history FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON orders_history
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);

ALTER TABLE order_items_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_items_history FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON order_items_history
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);

CREATE FUNCTION keep_replaced_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ebay_import.restoring', true) IS DISTINCT FROM 'on' THEN
        EXECUTE format('INSERT INTO %I SELECT ($1).*, $2', TG_TABLE_NAME || '_history')
            USING OLD, NEW.job_id;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER keep_replaced_version BEFORE UPDATE ON orders
    FOR EACH ROW WHEN (OLD.row_hash IS DISTINCT FROM NEW.row_hash)
    EXECUTE FUNCTION keep_replaced_version();
CREATE TRIGGER keep_replaced_version BEFORE UPDATE ON order_items
    FOR EACH ROW WHEN (OLD.row_hash IS DISTINCT FROM NEW.row_hash)
    EXECUTE FUNCTION keep_replaced_version();
