-- The import spine on PostgreSQL: accounts, jobs, rejects, orders and order items.
-- Types follow the typed Arrow columns the pipeline produces: money numeric(18,2), dates date,
-- date-times timestamp (eBay gives no time zone, so none is invented), booleans boolean.
-- Every data table is keyed by (account_id, natural key) and row-level security restricts
-- every statement to the account the engine sets per transaction
-- (`ebay_import.account_id`); FORCE makes it hold for the tables' owner too. Without the
-- setting no row is visible. The data tables have no foreign key to accounts: the engine
-- creates the account before any of its rows, and a key check per row would cost a trigger
-- call for every stored row of a bulk load.

CREATE TABLE accounts (
    id uuid PRIMARY KEY,
    slug text UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE import_jobs (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id),
    import_type text,
    file_name text NOT NULL,
    file_size bigint,
    file_sha256 text,
    encoding text,
    delimiter text,
    site text,
    status text NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'partially_failed', 'failed', 'rolled_back', 'interrupted')),
    rows_read bigint NOT NULL DEFAULT 0,
    inserted bigint NOT NULL DEFAULT 0,
    updated bigint NOT NULL DEFAULT 0,
    unchanged bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    skipped bigint NOT NULL DEFAULT 0,
    errors_by_code jsonb NOT NULL DEFAULT '{}',
    tables jsonb NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}',
    error text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    started_at timestamptz,
    finished_at timestamptz,
    -- The process running a processing job (host, pid, start time), so a later one can tell
    -- that it died.
    owner text,
    -- Where a `--commit-every` job can resume: written in the data transaction of each commit.
    resume_cursor jsonb
);
CREATE INDEX import_jobs_account ON import_jobs (account_id, created_at);

CREATE TABLE import_rejects (
    job_id uuid NOT NULL REFERENCES import_jobs(id),
    line bigint NOT NULL,
    record bigint NOT NULL,
    column_name text,
    code text NOT NULL,
    message text NOT NULL,
    value text,
    raw_line text,
    seq bigserial
);
CREATE INDEX import_rejects_job ON import_rejects (job_id, line, seq);

CREATE TABLE orders (
    account_id uuid NOT NULL,
    order_key text NOT NULL,
    sales_record_number text,
    order_number text,
    buyer_username text,
    buyer_name text,
    buyer_email text,
    buyer_note text,
    buyer_address_1 text,
    buyer_address_2 text,
    buyer_city text,
    buyer_state text,
    buyer_zip text,
    buyer_country text,
    buyer_tax_identifier_name text,
    buyer_tax_identifier_value text,
    ship_to_name text,
    ship_to_phone text,
    ship_to_address_1 text,
    ship_to_address_2 text,
    ship_to_city text,
    ship_to_state text,
    ship_to_zip text,
    ship_to_country text,
    shipping_and_handling numeric(18,2),
    included_vat_rate text,
    ebay_collect_and_remit_tax_rate text,
    ebay_collect_and_remit_tax_type text,
    ebay_reference_name text,
    ebay_reference_value text,
    tax_status text,
    seller_collected_tax numeric(18,2),
    ebay_collected_tax numeric(18,2),
    electronic_waste_recycling_fee numeric(18,2),
    mattress_recycling_fee numeric(18,2),
    battery_recycling_fee numeric(18,2),
    white_goods_disposal_tax numeric(18,2),
    tire_recycling_fee numeric(18,2),
    additional_fee numeric(18,2),
    lumber_fee numeric(18,2),
    prepaid_wireless_fee numeric(18,2),
    road_improvement_and_food_delivery_fee numeric(18,2),
    ebay_collected_charges numeric(18,2),
    total_price numeric(18,2),
    ebay_collected_tax_and_fees_included_in_total boolean,
    payment_method text,
    sale_date timestamp,
    paid_on_date timestamp,
    ship_by_date date,
    minimum_estimated_delivery_date date,
    maximum_estimated_delivery_date date,
    shipped_on_date timestamp,
    paypal_transaction_id text,
    shipping_service text,
    tracking_number text,
    global_shipping_program boolean,
    global_shipping_reference_id text,
    click_and_collect boolean,
    click_and_collect_reference_number text,
    ebay_plus boolean,
    ebay_fulfillment_program text,
    tax_city text,
    tax_state text,
    tax_zip text,
    tax_country text,
    ebay_international_shipping boolean,
    currency text,
    order_status text,
    payment_status text,
    shipping_status text,
    row_hash bigint NOT NULL,
    job_id uuid NOT NULL,
    source_line bigint NOT NULL,
    PRIMARY KEY (account_id, order_key)
);

CREATE TABLE order_items (
    account_id uuid NOT NULL,
    item_key text NOT NULL,
    order_key text NOT NULL,
    sales_record_number text,
    order_number text,
    item_number text,
    item_title text,
    custom_label text,
    sold_via_promoted_listings boolean,
    quantity bigint,
    sold_for numeric(18,2),
    item_location text,
    item_zip_code text,
    item_country text,
    sale_date timestamp,
    feedback_left text,
    feedback_received text,
    my_item_note text,
    tracking_number text,
    transaction_id text,
    variation_details text,
    authenticity_verification_program text,
    authenticity_verification_status text,
    authenticity_verification_outcome_reason text,
    psa_vault_program text,
    vault_fulfillment_type text,
    currency text,
    row_hash bigint NOT NULL,
    job_id uuid NOT NULL,
    source_line bigint NOT NULL,
    PRIMARY KEY (account_id, item_key)
);

-- An order's items need no index of their own: item keys start with their order key, so they
-- are a prefix range of the primary key.

ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON orders
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);

ALTER TABLE order_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_items FORCE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON order_items
    USING (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid)
    WITH CHECK (account_id = NULLIF(current_setting('ebay_import.account_id', true), '')::uuid);
