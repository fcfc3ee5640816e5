//! The listings import type: the Seller Hub "All active listings" report, the old File
//! Exchange active-listings download, the "Edit price and quantity" download and the category
//! listing template. Every listing with a custom label also makes the product behind it.

use crate::fields::{f, LONG, NAME, SHORT, TEXT};
use crate::{
    DerivedTable, EnumDef, FieldType, IdKind, ImportSchema, KeySource, KeyedModel, RowModel,
    Variant,
};

use crate::Target::Primary as P;
use FieldType::*;

/// The template actions eBay accepts (`Draft` only in the drafts template).
pub static LISTING_ACTION: EnumDef = EnumDef {
    name: "listing action",
    values: &[
        ("add", "Add"),
        ("verifyadd", "VerifyAdd"),
        ("revise", "Revise"),
        ("relist", "Relist"),
        ("end", "End"),
        ("draft", "Draft"),
    ],
};

pub static LISTING_FORMAT: EnumDef = EnumDef {
    name: "listing format",
    values: &[
        ("fixedprice", "FIXED_PRICE"),
        ("fixed price", "FIXED_PRICE"),
        ("fixed_price", "FIXED_PRICE"),
        ("fixedpriceitem", "FIXED_PRICE"),
        ("buy it now", "FIXED_PRICE"),
        ("auction", "AUCTION"),
        ("chinese", "AUCTION"),
    ],
};

const COUNT: FieldType = Integer {
    min: 0,
    max: 10_000_000,
};

static LISTING_MODEL: KeyedModel = KeyedModel {
    table: "listings",
    key_column: "listing_key",
    // Template rows of new listings have no item number yet: their custom label keys them.
    keys: &[
        KeySource {
            field: "item_number",
            prefix: "",
        },
        KeySource {
            field: "custom_label",
            prefix: "SKU:",
        },
    ],
    attributes: Some("attributes"),
    derived: &[DerivedTable {
        table: "products",
        key_column: "sku",
        key_field: "custom_label",
        columns: &[
            ("title", "title"),
            ("quantity", "available_quantity"),
            ("price", "start_price"),
            ("upc", "upc"),
            ("ean", "ean"),
            ("isbn", "isbn"),
            ("mpn", "mpn"),
            ("brand", "brand"),
            ("condition", "condition"),
        ],
    }],
};

pub static LISTINGS: ImportSchema = ImportSchema {
    name: "listings",
    row_model: RowModel::Keyed(&LISTING_MODEL),
    required_any: &[&["item_number", "custom_label"]],
    variants: &[
        Variant {
            name: "Seller Hub All active listings report",
            ebay: true,
            site: None,
            signature: &["item number", "available quantity", "start price"],
        },
        Variant {
            name: "File Exchange active listings download",
            ebay: true,
            site: None,
            signature: &["item id", "quantity available", "price"],
        },
        Variant {
            name: "Edit price and quantity download",
            ebay: true,
            site: None,
            signature: &["action", "item number", "available quantity"],
        },
        Variant {
            name: "category listing template",
            ebay: true,
            site: None,
            signature: &["action", "category", "startprice"],
        },
    ],
    rollups: &[],
    attribute_prefixes: &["c:", "cd:", "cda:", "p:"],
    fields: &[
        f("action", Enum(&LISTING_ACTION), P, &["Action", "Aktion"]),
        f(
            "item_number",
            Id(IdKind::ItemNumber),
            P,
            &["Item number", "Item ID", "ItemID", "Artikelnummer"],
        ),
        f(
            "custom_label",
            NAME,
            P,
            &[
                "Custom label (SKU)",
                "Custom Label",
                "CustomLabel",
                "Bestandseinheit",
            ],
        ),
        crate::fields::req(
            "title",
            Text { max_chars: 255 },
            P,
            &["Title", "Item Title", "Artikelbezeichnung", "Angebotstitel"],
        ),
        f("subtitle", NAME, P, &["Subtitle"]),
        f(
            "variation_details",
            TEXT,
            P,
            &["Variation details", "Variantendetails"],
        ),
        f("relationship", SHORT, P, &["Relationship"]),
        f(
            "relationship_details",
            TEXT,
            P,
            &["Relationship details", "RelationshipDetails"],
        ),
        f(
            "available_quantity",
            COUNT,
            P,
            &[
                "Available quantity",
                "Quantity Available",
                "Quantity",
                "Verfügbare Anzahl",
            ],
        ),
        f(
            "sold_quantity",
            COUNT,
            P,
            &["Sold quantity", "Purchases", "Verkaufte Anzahl"],
        ),
        f("watchers", COUNT, P, &["Watchers", "Beobachter"]),
        f("bids", COUNT, P, &["Bids", "Gebote"]),
        f(
            "format",
            Enum(&LISTING_FORMAT),
            P,
            &["Format", "Angebotsformat"],
        ),
        f("duration", SHORT, P, &["Duration"]),
        f("listing_type", SHORT, P, &["Type"]),
        f("currency", Currency, P, &["Currency", "Währung"]),
        f(
            "start_price",
            Money,
            P,
            &["Start price", "Price", "StartPrice", "Startpreis"],
        ),
        f(
            "buy_it_now_price",
            Money,
            P,
            &[
                "Auction Buy It Now price",
                "Buy It Now price",
                "BuyItNowPrice",
            ],
        ),
        f(
            "reserve_price",
            Money,
            P,
            &["Reserve price", "ReservePrice"],
        ),
        f(
            "current_price",
            Money,
            P,
            &["Current price", "Aktueller Preis"],
        ),
        f(
            "start_date",
            DateTime,
            P,
            &["Start date", "Start Date", "Startdatum"],
        ),
        f(
            "end_date",
            DateTime,
            P,
            &["End date", "End Date", "Enddatum"],
        ),
        f(
            "schedule_time",
            DateTime,
            P,
            &["ScheduleTime", "Schedule time"],
        ),
        f(
            "category_1_name",
            NAME,
            P,
            &[
                "eBay category 1 name",
                "Category Leaf Name",
                "Category name",
            ],
        ),
        f(
            "category_1_number",
            Id(IdKind::Digits { min: 1, max: 12 }),
            P,
            &[
                "eBay category 1 number",
                "Category Number",
                "Category",
                "Category ID",
            ],
        ),
        f("category_2_name", NAME, P, &["eBay category 2 name"]),
        f(
            "category_2_number",
            Id(IdKind::Digits { min: 1, max: 12 }),
            P,
            &["eBay category 2 number", "Category 2"],
        ),
        f(
            "store_category",
            SHORT,
            P,
            &["StoreCategory", "Store category"],
        ),
        f("condition", SHORT, P, &["Condition", "Artikelzustand"]),
        f(
            "condition_id",
            Id(IdKind::Digits { min: 1, max: 5 }),
            P,
            &["Condition ID", "ConditionID"],
        ),
        f(
            "epid",
            Id(IdKind::Token),
            P,
            &["eBay Product ID(ePID)", "ePID", "Product:EPID"],
        ),
        f("upc", Id(IdKind::Gtin), P, &["P:UPC", "Product:UPC", "UPC"]),
        f("ean", Id(IdKind::Gtin), P, &["P:EAN", "Product:EAN", "EAN"]),
        f(
            "isbn",
            Id(IdKind::Isbn),
            P,
            &["P:ISBN", "Product:ISBN", "ISBN"],
        ),
        f("mpn", SHORT, P, &["Product:MPN", "C:MPN", "MPN"]),
        f("brand", NAME, P, &["Product:Brand", "C:Brand", "Brand"]),
        f("product_id_type", SHORT, P, &["Product ID Type"]),
        f("product_id_value", SHORT, P, &["Product ID Value"]),
        f("product_id_value_2", SHORT, P, &["Product ID Value 2"]),
        f("product_reference_id", SHORT, P, &["Product Reference ID"]),
        f(
            "listing_site",
            SHORT,
            P,
            &["Listing site", "Site Listed", "SiteID", "Site"],
        ),
        f("location", NAME, P, &["Location", "Artikelstandort"]),
        f(
            "dispatch_time_max",
            Integer { min: 0, max: 40 },
            P,
            &["DispatchTimeMax", "Handling time"],
        ),
        f(
            "picture_url",
            TEXT,
            P,
            &["PicURL", "Item photo URL", "Picture URL"],
        ),
        f(
            "description",
            Text { max_chars: 500_000 },
            P,
            &["Description", "Beschreibung"],
        ),
        f(
            "private_notes",
            LONG,
            P,
            &["Private Notes", "Private notes"],
        ),
        f(
            "out_of_stock_control",
            Bool,
            P,
            &["OutOfStockControl", "Out of stock control"],
        ),
        f(
            "shipping_profile_name",
            NAME,
            P,
            &["ShippingProfileName", "Shipping policy"],
        ),
        f(
            "return_profile_name",
            NAME,
            P,
            &["ReturnProfileName", "Return policy"],
        ),
        f(
            "payment_profile_name",
            NAME,
            P,
            &["PaymentProfileName", "Payment policy"],
        ),
        f("end_code", SHORT, P, &["EndCode"]),
        f("download_date", DateTime, P, &["Download Date"]),
    ],
};
