-- Rollback: the version of a row that a job replaced, captured in the same transaction as
-- the update. `replaced_by` is the job that replaced it; rolling that job back restores it.

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
