-- The version of a row that a job replaces is kept by the upsert itself (a data-modifying
-- CTE that reads the rows the statement is about to update, from the same snapshot), one
-- set-based INSERT per round, instead of a row trigger that converted each replaced row to
-- JSON and ran a dynamic statement for it.
DROP TRIGGER keep_replaced_version ON orders;
DROP TRIGGER keep_replaced_version ON order_items;
DROP TRIGGER keep_replaced_version ON listings;
DROP TRIGGER keep_replaced_version ON products;
DROP TRIGGER keep_replaced_version ON customers;
DROP FUNCTION keep_replaced_version();
