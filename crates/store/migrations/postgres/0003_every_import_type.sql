-- Every import type: listings (with their item specifics as a JSON object in text), products
-- (one per SKU, imported or derived from listings) and customers; the columns of the older
-- and legacy Orders layouts. The history trigger now copies a replaced row by column name,
-- so a column added to a table and its history lands in the right place.

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

ALTER TABLE order_items
    ADD COLUMN private_notes text,
    ADD COLUMN listed_on timestamp,
    ADD COLUMN sold_on text,
    ADD COLUMN product_id_type text,
    ADD COLUMN product_id_value text,
    ADD COLUMN product_id_value_2 text,
    ADD COLUMN product_reference_id text;

-- Every history table gets the columns its table has and it lacks (the Orders columns above).
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT h.relname AS history, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
        FROM pg_class t
        JOIN pg_class h ON h.relname = t.relname || '_history' AND h.relnamespace = t.relnamespace
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE t.relnamespace = current_schema()::regnamespace
          AND NOT EXISTS (
              SELECT 1 FROM pg_attribute x WHERE x.attrelid = h.oid AND x.attname = a.attname)
        ORDER BY h.relname, a.attnum
    LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN %I %s', c.history, c.name, c.type);
    END LOOP;
END
$$;

-- The new tables get what 0001 and 0002 gave orders: a history table, row-level security on
-- the table and its history, and the trigger that keeps replaced versions.
DO $$
DECLARE
    t text;
    r text;
BEGIN
    FOREACH t IN ARRAY ARRAY['listings', 'products', 'customers'] LOOP
        EXECUTE format('CREATE TABLE %I (LIKE %I, replaced_by uuid NOT NULL)', t || '_history', t);
        EXECUTE format('CREATE INDEX %I ON %I (replaced_by)', t || '_history_replaced_by', t || '_history');
        EXECUTE format('CREATE INDEX %I ON %I (job_id)', t || '_history_job', t || '_history');
        FOREACH r IN ARRAY ARRAY[t, t || '_history'] LOOP
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', r);
            EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', r);
            EXECUTE format(
                'CREATE POLICY account_isolation ON %I '
                'USING (account_id = NULLIF(current_setting(''ebay_import.account_id'', true), '''')::uuid) '
                'WITH CHECK (account_id = NULLIF(current_setting(''ebay_import.account_id'', true), '''')::uuid)',
                r);
        END LOOP;
        EXECUTE format(
            'CREATE TRIGGER keep_replaced_version BEFORE UPDATE ON %I FOR EACH ROW '
            'WHEN (OLD.row_hash IS DISTINCT FROM NEW.row_hash) EXECUTE FUNCTION keep_replaced_version()',
            t);
    END LOOP;
END
$$;
