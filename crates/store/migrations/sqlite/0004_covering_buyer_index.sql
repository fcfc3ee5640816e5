-- The customers refresh reads a buyer's orders (account, sale date, order key) from this
-- index alone, without reading the wide rows. A big load drops it inside its transaction and
-- builds it once at the end (the SQLite store's deferred indexes).
DROP INDEX orders_buyer;
CREATE INDEX orders_buyer ON orders (buyer_username, account_id, sale_date, order_key);
