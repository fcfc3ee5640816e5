-- The import spine: accounts, jobs, rejects, orders and order items (SQLite).
-- Money is stored as exact decimal text ('12.34'), dates as ISO text, booleans as 0/1.
-- Data tables are rowid tables: wide rows are appended in order and only a narrow index takes
-- random inserts. That index holds a 64-bit hash of (account id, natural key) instead of the
-- key text and the account id, a fifth of the size, so a small page cache holds it; the
-- store compares the account and the key text of a hash's rows, so keys that share a hash
-- stay apart, and a natural key is unique per account because the store writes each key once.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE import_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    import_type TEXT,
    file_name TEXT NOT NULL,
    file_size INTEGER,
    file_sha256 TEXT,
    encoding TEXT,
    delimiter TEXT,
    site TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'partially_failed', 'failed', 'rolled_back', 'interrupted')),
    rows_read INTEGER NOT NULL DEFAULT 0,
    inserted INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    errors_by_code TEXT NOT NULL DEFAULT '{}',
    tables TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    -- The process running a processing job (host, pid, start time), so a later one can tell
    -- that it died.
    owner TEXT,
    -- Where a `--commit-every` job can resume: written in the data transaction of each commit.
    resume_cursor TEXT
);
CREATE INDEX import_jobs_account ON import_jobs (account_id, created_at);

CREATE TABLE import_rejects (
    job_id TEXT NOT NULL REFERENCES import_jobs(id),
    line INTEGER NOT NULL,
    record INTEGER NOT NULL,
    column_name TEXT,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    value TEXT,
    raw_line TEXT
);
CREATE INDEX import_rejects_job ON import_rejects (job_id, line);

CREATE TABLE orders (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    order_key TEXT NOT NULL,
    key_hash INTEGER NOT NULL,
    sales_record_number TEXT,
    order_number TEXT,
    buyer_username TEXT,
    buyer_name TEXT,
    buyer_email TEXT,
    buyer_note TEXT,
    buyer_address_1 TEXT,
    buyer_address_2 TEXT,
    buyer_city TEXT,
    buyer_state TEXT,
    buyer_zip TEXT,
    buyer_country TEXT,
    buyer_tax_identifier_name TEXT,
    buyer_tax_identifier_value TEXT,
    ship_to_name TEXT,
    ship_to_phone TEXT,
    ship_to_address_1 TEXT,
    ship_to_address_2 TEXT,
    ship_to_city TEXT,
    ship_to_state TEXT,
    ship_to_zip TEXT,
    ship_to_country TEXT,
    shipping_and_handling TEXT,
    included_vat_rate TEXT,
    ebay_collect_and_remit_tax_rate TEXT,
    ebay_collect_and_remit_tax_type TEXT,
    ebay_reference_name TEXT,
    ebay_reference_value TEXT,
    tax_status TEXT,
    seller_collected_tax TEXT,
    ebay_collected_tax TEXT,
    electronic_waste_recycling_fee TEXT,
    mattress_recycling_fee TEXT,
    battery_recycling_fee TEXT,
    white_goods_disposal_tax TEXT,
    tire_recycling_fee TEXT,
    additional_fee TEXT,
    lumber_fee TEXT,
    prepaid_wireless_fee TEXT,
    road_improvement_and_food_delivery_fee TEXT,
    ebay_collected_charges TEXT,
    total_price TEXT,
    ebay_collected_tax_and_fees_included_in_total INTEGER,
    payment_method TEXT,
    sale_date TEXT,
    paid_on_date TEXT,
    ship_by_date TEXT,
    minimum_estimated_delivery_date TEXT,
    maximum_estimated_delivery_date TEXT,
    shipped_on_date TEXT,
    paypal_transaction_id TEXT,
    shipping_service TEXT,
    tracking_number TEXT,
    global_shipping_program INTEGER,
    global_shipping_reference_id TEXT,
    click_and_collect INTEGER,
    click_and_collect_reference_number TEXT,
    ebay_plus INTEGER,
    ebay_fulfillment_program TEXT,
    tax_city TEXT,
    tax_state TEXT,
    tax_zip TEXT,
    tax_country TEXT,
    ebay_international_shipping INTEGER,
    currency TEXT,
    order_status TEXT,
    payment_status TEXT,
    shipping_status TEXT,
    row_hash INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    source_line INTEGER NOT NULL
);
CREATE INDEX orders_key_hash ON orders (key_hash);

CREATE TABLE order_items (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    item_key TEXT NOT NULL,
    key_hash INTEGER NOT NULL,
    order_key TEXT NOT NULL,
    sales_record_number TEXT,
    order_number TEXT,
    item_number TEXT,
    item_title TEXT,
    custom_label TEXT,
    sold_via_promoted_listings INTEGER,
    quantity INTEGER,
    sold_for TEXT,
    item_location TEXT,
    item_zip_code TEXT,
    item_country TEXT,
    sale_date TEXT,
    feedback_left TEXT,
    feedback_received TEXT,
    my_item_note TEXT,
    tracking_number TEXT,
    transaction_id TEXT,
    variation_details TEXT,
    authenticity_verification_program TEXT,
    authenticity_verification_status TEXT,
    authenticity_verification_outcome_reason TEXT,
    psa_vault_program TEXT,
    vault_fulfillment_type TEXT,
    currency TEXT,
    row_hash INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    source_line INTEGER NOT NULL
);
CREATE INDEX order_items_key_hash ON order_items (key_hash);
