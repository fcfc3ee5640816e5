//! The products import type: one row per SKU per account, from a canonical products CSV (the
//! seed's snake_case style). Listings imports also derive products (see `listings`).

use crate::fields::{f, req, NAME, SHORT};
use crate::{FieldType, IdKind, ImportSchema, KeySource, KeyedModel, RowModel, Variant};

use crate::Target::Primary as P;
use FieldType::*;

static PRODUCT_MODEL: KeyedModel = KeyedModel {
    table: "products",
    key_column: "sku",
    keys: &[KeySource {
        field: "sku",
        prefix: "",
    }],
    attributes: None,
    derived: &[],
};

pub static PRODUCTS: ImportSchema = ImportSchema {
    name: "products",
    row_model: RowModel::Keyed(&PRODUCT_MODEL),
    required_any: &[],
    variants: &[Variant {
        name: "canonical products CSV",
        ebay: false,
        site: None,
        signature: &[],
    }],
    rollups: &[],
    attribute_prefixes: &[],
    fields: &[
        req(
            "sku",
            NAME,
            P,
            &["sku", "product_sku", "custom_label", "SKU"],
        ),
        f(
            "title",
            Text { max_chars: 255 },
            P,
            &["title", "name", "product_name"],
        ),
        f(
            "quantity",
            Integer {
                min: 0,
                max: 10_000_000,
            },
            P,
            &[
                "quantity",
                "stock",
                "quantity_available",
                "available_quantity",
            ],
        ),
        f("price", Money, P, &["price", "unit_price"]),
        f("currency", Currency, P, &["currency"]),
        f("upc", Id(IdKind::Gtin), P, &["upc"]),
        f("ean", Id(IdKind::Gtin), P, &["ean", "gtin"]),
        f("isbn", Id(IdKind::Isbn), P, &["isbn"]),
        f("mpn", SHORT, P, &["mpn"]),
        f("brand", NAME, P, &["brand", "manufacturer"]),
        f("condition", SHORT, P, &["condition"]),
    ],
};
