//! The customers import type: a canonical customers CSV (the seed's snake_case style), keyed
//! by the buyer's eBay username.

use crate::fields::{f, req, NAME, SHORT, TEXT};
use crate::{FieldType, ImportSchema, KeySource, KeyedModel, RowModel, Variant};

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
        signature: &[],
    }],
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
