//! The customers import type: a canonical customers CSV (the seed's snake_case style), keyed
//! by the buyer's eBay username.

use crate::fields::{f, req, NAME, SHORT, TEXT};
use crate::{FieldType, ImportSchema, KeySource, KeyedModel, Rollup, RowModel, Variant};

use crate::Target::Primary as P;
use FieldType::*;

static CUSTOMER_MODEL: KeyedModel = KeyedModel {
    table: "customers",
    key_column: "username",
    keys: &[KeySource {
        field: "username",
        prefix: "",
    }],
    attributes: None,
    derived: &[],
};

pub static CUSTOMERS: ImportSchema = ImportSchema {
    name: "customers",
    row_model: RowModel::Keyed(&CUSTOMER_MODEL),
    required_any: &[],
    variants: &[Variant {
        name: "canonical customers CSV",
        ebay: false,
        site: None,
        signature: &[],
    }],
    rollups: &[],
    attribute_prefixes: &[],
    fields: &[
        req(
            "username",
            NAME,
            P,
            &[
                "username",
                "buyer_username",
                "customer_username",
                "ebay_username",
            ],
        ),
        f(
            "name",
            NAME,
            P,
            &["name", "customer_name", "full_name", "buyer_name"],
        ),
        f(
            "email",
            Email,
            P,
            &["email", "customer_email", "buyer_email"],
        ),
        f("phone", SHORT, P, &["phone", "phone_number", "buyer_phone"]),
        f(
            "address_1",
            TEXT,
            P,
            &["address_1", "address_line_1", "address"],
        ),
        f("address_2", TEXT, P, &["address_2", "address_line_2"]),
        f("city", NAME, P, &["city"]),
        f("state", NAME, P, &["state", "county", "province"]),
        f("zip", SHORT, P, &["zip", "postal_code", "postcode"]),
        f("country", NAME, P, &["country"]),
        f("ship_to_name", NAME, P, &["ship_to_name", "shipping_name"]),
        f(
            "ship_to_address_1",
            TEXT,
            P,
            &["ship_to_address_1", "shipping_address_1"],
        ),
        f(
            "ship_to_address_2",
            TEXT,
            P,
            &["ship_to_address_2", "shipping_address_2"],
        ),
        f("ship_to_city", NAME, P, &["ship_to_city", "shipping_city"]),
        f(
            "ship_to_state",
            NAME,
            P,
            &["ship_to_state", "shipping_state"],
        ),
        f(
            "ship_to_zip",
            SHORT,
            P,
            &["ship_to_zip", "shipping_zip", "shipping_postal_code"],
        ),
        f(
            "ship_to_country",
            NAME,
            P,
            &["ship_to_country", "shipping_country"],
        ),
        f("first_order_date", DateTime, P, &["first_order_date"]),
        f("last_order_date", DateTime, P, &["last_order_date"]),
        f(
            "order_count",
            Integer {
                min: 0,
                max: 100_000_000,
            },
            P,
            &["order_count", "orders"],
        ),
    ],
};

/// Every orders import refreshes the customers of the buyers it wrote: the buyer's most recent
/// order gives the name, email, phone and addresses; all of the account's stored orders give
/// the first and last order dates and the order count.
pub static CUSTOMERS_FROM_ORDERS: Rollup = Rollup {
    table: "customers",
    key_column: "username",
    source: "orders",
    source_key: "order_key",
    group_by: "buyer_username",
    order_by: "sale_date",
    latest: &[
        ("name", &["buyer_name"] as &[&str]),
        ("email", &["buyer_email"]),
        ("phone", &["buyer_phone", "ship_to_phone"]),
        ("address_1", &["buyer_address_1"]),
        ("address_2", &["buyer_address_2"]),
        ("city", &["buyer_city"]),
        ("state", &["buyer_state"]),
        ("zip", &["buyer_zip"]),
        ("country", &["buyer_country"]),
        ("ship_to_name", &["ship_to_name"]),
        ("ship_to_address_1", &["ship_to_address_1"]),
        ("ship_to_address_2", &["ship_to_address_2"]),
        ("ship_to_city", &["ship_to_city"]),
        ("ship_to_state", &["ship_to_state"]),
        ("ship_to_zip", &["ship_to_zip"]),
        ("ship_to_country", &["ship_to_country"]),
    ],
    first: "first_order_date",
    last: "last_order_date",
    count: "order_count",
};
