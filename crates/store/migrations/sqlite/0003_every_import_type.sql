-- Every import type: listings (with their item specifics as a JSON object), products (one
-- per SKU, imported or derived from listings) and customers; the columns of the older and
-- legacy Orders layouts. History tables are copies of their table plus `replaced_by`; the
-- store names the columns it copies, so a column added later lands in both.

CREATE TABLE listings (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    listing_key TEXT NOT NULL,
    key_hash INTEGER NOT NULL,
    action TEXT,
    item_number TEXT,
    custom_label TEXT,
    title TEXT,
    subtitle TEXT,
    variation_details TEXT,
    relationship TEXT,
    relationship_details TEXT,
    available_quantity INTEGER,
    sold_quantity INTEGER,
    watchers INTEGER,
    bids INTEGER,
    format TEXT,
    duration TEXT,
    listing_type TEXT,
    start_price TEXT,
    buy_it_now_price TEXT,
    reserve_price TEXT,
    current_price TEXT,
    start_date TEXT,
    end_date TEXT,
    schedule_time TEXT,
    category_1_name TEXT,
    category_1_number TEXT,
    category_2_name TEXT,
    category_2_number TEXT,
    store_category TEXT,
    condition TEXT,
    condition_id TEXT,
    epid TEXT,
    upc TEXT,
    ean TEXT,
    isbn TEXT,
    mpn TEXT,
    brand TEXT,
    product_id_type TEXT,
    product_id_value TEXT,
    product_id_value_2 TEXT,
    product_reference_id TEXT,
    listing_site TEXT,
    location TEXT,
    dispatch_time_max INTEGER,
    picture_url TEXT,
    description TEXT,
    private_notes TEXT,
    out_of_stock_control INTEGER,
    shipping_profile_name TEXT,
    return_profile_name TEXT,
    payment_profile_name TEXT,
    end_code TEXT,
    download_date TEXT,
    currency TEXT,
    attributes TEXT,
    row_hash INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    source_line INTEGER NOT NULL
);
CREATE INDEX listings_key_hash ON listings (key_hash);
CREATE TABLE listings_history AS SELECT *, '' AS replaced_by FROM listings WHERE 0;
CREATE INDEX listings_history_replaced_by ON listings_history (replaced_by);
CREATE INDEX listings_history_job ON listings_history (job_id);

CREATE TABLE products (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    sku TEXT NOT NULL,
    key_hash INTEGER NOT NULL,
    title TEXT,
    quantity INTEGER,
    price TEXT,
    upc TEXT,
    ean TEXT,
    isbn TEXT,
    mpn TEXT,
    brand TEXT,
    condition TEXT,
    currency TEXT,
    row_hash INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    source_line INTEGER NOT NULL
);
CREATE INDEX products_key_hash ON products (key_hash);
CREATE TABLE products_history AS SELECT *, '' AS replaced_by FROM products WHERE 0;
CREATE INDEX products_history_replaced_by ON products_history (replaced_by);
CREATE INDEX products_history_job ON products_history (job_id);

CREATE TABLE customers (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    username TEXT NOT NULL,
    key_hash INTEGER NOT NULL,
    name TEXT,
    email TEXT,
    phone TEXT,
    address_1 TEXT,
    address_2 TEXT,
    city TEXT,
    state TEXT,
    zip TEXT,
    country TEXT,
    ship_to_name TEXT,
    ship_to_address_1 TEXT,
    ship_to_address_2 TEXT,
    ship_to_city TEXT,
    ship_to_state TEXT,
    ship_to_zip TEXT,
    ship_to_country TEXT,
    first_order_date TEXT,
    last_order_date TEXT,
    order_count INTEGER,
    row_hash INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    source_line INTEGER NOT NULL
);
CREATE INDEX customers_key_hash ON customers (key_hash);
CREATE TABLE customers_history AS SELECT *, '' AS replaced_by FROM customers WHERE 0;
CREATE INDEX customers_history_replaced_by ON customers_history (replaced_by);
CREATE INDEX customers_history_job ON customers_history (job_id);

-- Customers are refreshed from the orders of the buyers a job wrote, keeping what
-- the orders leave empty.
CREATE INDEX orders_buyer ON orders (buyer_username);
CREATE INDEX customers_username ON customers (username);

ALTER TABLE orders ADD COLUMN buyer_phone TEXT;
ALTER TABLE orders ADD COLUMN insurance TEXT;
ALTER TABLE orders ADD COLUMN cash_on_delivery_fee TEXT;
ALTER TABLE orders ADD COLUMN commitment_date TEXT;
ALTER TABLE orders ADD COLUMN checkout_date TEXT;
ALTER TABLE orders ADD COLUMN cash_on_delivery_option TEXT;
ALTER TABLE orders ADD COLUMN invoice_date TEXT;
ALTER TABLE orders ADD COLUMN invoice_number TEXT;
ALTER TABLE orders_history ADD COLUMN buyer_phone TEXT;
ALTER TABLE orders_history ADD COLUMN insurance TEXT;
ALTER TABLE orders_history ADD COLUMN cash_on_delivery_fee TEXT;
ALTER TABLE orders_history ADD COLUMN commitment_date TEXT;
ALTER TABLE orders_history ADD COLUMN checkout_date TEXT;
ALTER TABLE orders_history ADD COLUMN cash_on_delivery_option TEXT;
ALTER TABLE orders_history ADD COLUMN invoice_date TEXT;
ALTER TABLE orders_history ADD COLUMN invoice_number TEXT;

ALTER TABLE order_items ADD COLUMN private_notes TEXT;
ALTER TABLE order_items ADD COLUMN listed_on TEXT;
ALTER TABLE order_items ADD COLUMN sold_on TEXT;
ALTER TABLE order_items ADD COLUMN product_id_type TEXT;
ALTER TABLE order_items ADD COLUMN product_id_value TEXT;
ALTER TABLE order_items ADD COLUMN product_id_value_2 TEXT;
ALTER TABLE order_items ADD COLUMN product_reference_id TEXT;
ALTER TABLE order_items_history ADD COLUMN private_notes TEXT;
ALTER TABLE order_items_history ADD COLUMN listed_on TEXT;
ALTER TABLE order_items_history ADD COLUMN sold_on TEXT;
ALTER TABLE order_items_history ADD COLUMN product_id_type TEXT;
ALTER TABLE order_items_history ADD COLUMN product_id_value TEXT;
ALTER TABLE order_items_history ADD COLUMN product_id_value_2 TEXT;
ALTER TABLE order_items_history ADD COLUMN product_reference_id TEXT;
