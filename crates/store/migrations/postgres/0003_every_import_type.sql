-- Every import type: listings (with their item specifics as a JSON object in text), products
-- (one per SKU, imported or derived from listings) and customers; the columns of the older
-- and legacy Orders layouts. The history trigger now copies a replaced row by column name,
-- so a column added to a table and its history lands in the right place.

CREATE TABLE listings (
    account_id uuid NOT NULL,
    listing_key text NOT NULL,
    action text,
    item_number text,
    custom_label text,
    title text,
    subtitle text,
    variation_details text,
    relationship text,
    relationship_details text,
    available_quantity bigint,
    sold_quantity bigint,
    watchers bigint,
    bids bigint,
    format text,
    duration text,
    listing_type text,
    start_price numeric(18,2),
    buy_it_now_price numeric(18,2),
    reserve_price numeric(18,2),
    current_price numeric(18,2),
    start_date timestamp,
    end_date timestamp,
    schedule_time timestamp,
    category_1_name text,
    category_1_number text,
    category_2_name text,
    category_2_number text,
    store_category text,
    condition text,
    condition_id text,
    epid text,
    upc text,
    ean text,
    isbn text,
    mpn text,
    brand text,
    product_id_type text,
    product_id_value text,
    product_id_value_2 text,
    product_reference_id text,
    listing_site text,
    location text,
    dispatch_time_max bigint,
    picture_url text,
    description text,
    private_notes text,
    out_of_stock_control boolean,
    shipping_profile_name text,
    return_profile_name text,
    payment_profile_name text,
    end_code text,
    download_date timestamp,
    currency text,
    attributes text,
    row_hash bigint NOT NULL,
    job_id uuid NOT NULL,
    source_line bigint NOT NULL,
    PRIMARY KEY (account_id, listing_key)
);

CREATE TABLE listings_history (LIKE listings, replaced_by uuid NOT NULL);
CREATE INDEX listings_history_replaced_by ON listings_history (replaced_by);
CREATE INDEX listings_history_job ON listings_history (job_id);

ALTER TABLE listings ENABLE ROW LEVEL SECURITY;
ALTER TABLE listings FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON listings
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);

ALTER TABLE listings_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE listings_history FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON listings_history
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);

CREATE TABLE products (
    account_id uuid NOT NULL,
    sku text NOT NULL,
    title text,
    quantity bigint,
    price numeric(18,2),
    upc text,
    ean text,
    isbn text,
    mpn text,
    brand text,
    condition text,
    currency text,
    row_hash bigint NOT NULL,
    job_id uuid NOT NULL,
    source_line bigint NOT NULL,
    PRIMARY KEY (account_id, sku)
);

CREATE TABLE products_history (LIKE products, replaced_by uuid NOT NULL);
CREATE INDEX products_history_replaced_by ON products_history (replaced_by);
CREATE INDEX products_history_job ON products_history (job_id);

ALTER TABLE products ENABLE ROW LEVEL SECURITY;
ALTER TABLE products FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON products
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);

ALTER TABLE products_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE products_history FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON products_history
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);

CREATE TABLE customers (
    account_id uuid NOT NULL,
    username text NOT NULL,
    name text,
    email text,
    phone text,
    address_1 text,
    address_2 text,
    city text,
    state text,
    zip text,
    country text,
    ship_to_name text,
    ship_to_address_1 text,
    ship_to_address_2 text,
    ship_to_city text,
    ship_to_state text,
    ship_to_zip text,
    ship_to_country text,
    first_order_date timestamp,
    last_order_date timestamp,
    order_count bigint,
    row_hash bigint NOT NULL,
    job_id uuid NOT NULL,
    source_line bigint NOT NULL,
    PRIMARY KEY (account_id, username)
);

CREATE TABLE customers_history (LIKE customers, replaced_by uuid NOT NULL);
CREATE INDEX customers_history_replaced_by ON customers_history (replaced_by);
CREATE INDEX customers_history_job ON customers_history (job_id);

ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON customers
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);

ALTER TABLE customers_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers_history FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON customers_history
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);

-- Customers are refreshed from the orders of the buyers a job wrote.
CREATE INDEX orders_buyer ON orders (account_id, buyer_username, sale_date, order_key);

ALTER TABLE orders
    ADD COLUMN buyer_phone text,
    ADD COLUMN insurance numeric(18,2),
    ADD COLUMN cash_on_delivery_fee numeric(18,2),
    ADD COLUMN commitment_date date,
    ADD COLUMN checkout_date timestamp,
    ADD COLUMN cash_on_delivery_option text,
    ADD COLUMN invoice_date date,
    ADD COLUMN invoice_number text;
ALTER TABLE orders_history
    ADD COLUMN buyer_phone text,
    ADD COLUMN insurance numeric(18,2),
    ADD COLUMN cash_on_delivery_fee numeric(18,2),
    ADD COLUMN commitment_date date,
    ADD COLUMN checkout_date timestamp,
    ADD COLUMN cash_on_delivery_option text,
    ADD COLUMN invoice_date date,
    ADD COLUMN invoice_number text;

ALTER TABLE order_items
    ADD COLUMN private_notes text,
    ADD COLUMN listed_on timestamp,
    ADD COLUMN sold_on text,
    ADD COLUMN product_id_type text,
    ADD COLUMN product_id_value text,
    ADD COLUMN product_id_value_2 text,
    ADD COLUMN product_reference_id text;
ALTER TABLE order_items_history
    ADD COLUMN private_notes text,
    ADD COLUMN listed_on timestamp,
    ADD COLUMN sold_on text,
    ADD COLUMN product_id_type text,
    ADD COLUMN product_id_value text,
    ADD COLUMN product_id_value_2 text,
    ADD COLUMN product_reference_id text;

CREATE OR REPLACE FUNCTION keep_replaced_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ebay_import.restoring', true) IS DISTINCT FROM 'on' THEN
        EXECUTE format(
            'INSERT INTO %1$I SELECT * FROM jsonb_populate_record(NULL::%1$I, $1 || $2)',
            TG_TABLE_NAME || '_history'
        ) USING to_jsonb(OLD), jsonb_build_object('replaced_by', NEW.job_id);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER keep_replaced_version BEFORE UPDATE ON listings
    FOR EACH ROW WHEN (OLD.row_hash IS DISTINCT FROM NEW.row_hash)
    EXECUTE FUNCTION keep_replaced_version();
CREATE TRIGGER keep_replaced_version BEFORE UPDATE ON products
    FOR EACH ROW WHEN (OLD.row_hash IS DISTINCT FROM NEW.row_hash)
    EXECUTE FUNCTION keep_replaced_version();
CREATE TRIGGER keep_replaced_version BEFORE UPDATE ON customers
    FOR EACH ROW WHEN (OLD.row_hash IS DISTINCT FROM NEW.row_hash)
    EXECUTE FUNCTION keep_replaced_version();
