//! The orders import type: the eBay Seller Hub Orders report (US, UK, AU, DE wording and the
//! older layouts) and the seed's canonical one-row-per-order CSV.

use crate::{EnumDef, FieldDef, FieldType, IdKind, ImportSchema, RowModel, Target};

use FieldType::*;
use Target::*;

const fn f(
    name: &'static str,
    ty: FieldType,
    target: Target,
    aliases: &'static [&'static str],
) -> FieldDef {
    FieldDef {
        name,
        ty,
        required: false,
        target,
        aliases,
    }
}

const fn req(
    name: &'static str,
    ty: FieldType,
    target: Target,
    aliases: &'static [&'static str],
) -> FieldDef {
    FieldDef {
        name,
        ty,
        required: true,
        target,
        aliases,
    }
}

const TEXT: FieldType = Text { max_chars: 1000 };
const NAME: FieldType = Text { max_chars: 255 };
const SHORT: FieldType = Text { max_chars: 100 };
const LONG: FieldType = Text { max_chars: 4000 };

/// The seed's order statuses (`completed` is stored as `DELIVERED`, as the seed does).
pub static ORDER_STATUS: EnumDef = EnumDef {
    name: "order status",
    values: &[
        ("pending", "PENDING"),
        ("processing", "PROCESSING"),
        ("shipped", "SHIPPED"),
        ("delivered", "DELIVERED"),
        ("cancelled", "CANCELLED"),
        ("canceled", "CANCELLED"),
        ("returned", "RETURNED"),
        ("completed", "DELIVERED"),
    ],
};

pub static PAYMENT_STATUS: EnumDef = EnumDef {
    name: "payment status",
    values: &[
        ("pending", "PENDING"),
        ("paid", "PAID"),
        ("failed", "FAILED"),
        ("refunded", "REFUNDED"),
    ],
};

pub static SHIPPING_STATUS: EnumDef = EnumDef {
    name: "shipping status",
    values: &[
        ("not_shipped", "NOT_SHIPPED"),
        ("not shipped", "NOT_SHIPPED"),
        ("processing", "PROCESSING"),
        ("shipped", "SHIPPED"),
        ("delivered", "DELIVERED"),
        ("returned", "RETURNED"),
    ],
};

pub static ORDERS: ImportSchema = ImportSchema {
    name: "orders",
    row_model: RowModel::EbayOrders,
    tables: ("orders", "order_items"),
    fields: &[
        f(
            "sales_record_number",
            Id(IdKind::Digits { min: 1, max: 12 }),
            Both,
            &[
                "Sales Record Number",
                "Record Number",
                "Verkaufsprotokollnummer",
            ],
        ),
        req(
            "order_number",
            Id(IdKind::OrderNumber),
            Both,
            &[
                "Order Number",
                "Order ID",
                "order_id",
                "Bestellnummer",
                "Numéro de commande",
                "Numero ordine",
            ],
        ),
        f(
            "buyer_username",
            NAME,
            Primary,
            &[
                "Buyer Username",
                "Buyer User ID",
                "User Id",
                "Nutzername des Käufers",
                "Mitgliedsname",
                "buyer_username",
            ],
        ),
        req(
            "buyer_name",
            NAME,
            Primary,
            &[
                "Buyer Name",
                "Buyer Fullname",
                "Buyer Full name",
                "Name des Käufers",
                "Vollständiger Name des Käufers",
                "buyer_name",
                "customer_name",
            ],
        ),
        f(
            "buyer_email",
            Email,
            Primary,
            &["Buyer Email", "E-Mail des Käufers", "buyer_email", "email"],
        ),
        f(
            "buyer_note",
            LONG,
            Primary,
            &["Buyer Note", "Notiz des Käufers"],
        ),
        f(
            "buyer_address_1",
            TEXT,
            Primary,
            &["Buyer Address 1", "Adresse 1 des Käufers"],
        ),
        f(
            "buyer_address_2",
            TEXT,
            Primary,
            &["Buyer Address 2", "Adresse 2 des Käufers"],
        ),
        f(
            "buyer_city",
            NAME,
            Primary,
            &["Buyer City", "Buyer Town/City", "Wohnort des Käufers"],
        ),
        f(
            "buyer_state",
            NAME,
            Primary,
            &[
                "Buyer State",
                "Buyer County",
                "Buyer State/Province",
                "Bundesland des Käufers",
            ],
        ),
        f(
            "buyer_zip",
            SHORT,
            Primary,
            &[
                "Buyer Zip",
                "Buyer Postcode",
                "Buyer Post Code",
                "PLZ des Käufers",
            ],
        ),
        f(
            "buyer_country",
            NAME,
            Primary,
            &["Buyer Country", "Land des Käufers"],
        ),
        f(
            "buyer_tax_identifier_name",
            NAME,
            Primary,
            &["Buyer Tax Identifier Name"],
        ),
        f(
            "buyer_tax_identifier_value",
            NAME,
            Primary,
            &["Buyer Tax Identifier Value"],
        ),
        f(
            "ship_to_name",
            NAME,
            Primary,
            &[
                "Ship To Name",
                "Post To Name",
                "Name des Empfängers",
                "shipping_name",
            ],
        ),
        f(
            "ship_to_phone",
            SHORT,
            Primary,
            &[
                "Ship To Phone",
                "Post To Phone",
                "Buyer Phone Number",
                "Telefonnummer des Empfängers",
                "shipping_phone",
            ],
        ),
        f(
            "ship_to_address_1",
            TEXT,
            Primary,
            &[
                "Ship To Address 1",
                "Post To Address 1",
                "Adresse 1 des Empfängers",
                "shipping_address_1",
            ],
        ),
        f(
            "ship_to_address_2",
            TEXT,
            Primary,
            &[
                "Ship To Address 2",
                "Post To Address 2",
                "Adresse 2 des Empfängers",
                "shipping_address_2",
            ],
        ),
        f(
            "ship_to_city",
            NAME,
            Primary,
            &[
                "Ship To City",
                "Post To City",
                "Versand nach - Ort",
                "shipping_city",
            ],
        ),
        f(
            "ship_to_state",
            NAME,
            Primary,
            &[
                "Ship To State",
                "Post To County",
                "Post To State",
                "Ship To Province/Region/State",
                "Versand nach - Bundesland",
                "shipping_state",
            ],
        ),
        f(
            "ship_to_zip",
            SHORT,
            Primary,
            &[
                "Ship To Zip",
                "Post To Postcode",
                "Ship To Postcode",
                "Versand nach - PLZ",
                "shipping_postal_code",
                "shipping_zip",
            ],
        ),
        f(
            "ship_to_country",
            NAME,
            Primary,
            &[
                "Ship To Country",
                "Post To Country",
                "Versand nach - Land",
                "shipping_country",
            ],
        ),
        f(
            "item_number",
            Id(IdKind::ItemNumber),
            Line,
            &["Item Number", "Item ID", "Artikelnummer", "item_id"],
        ),
        f(
            "item_title",
            TEXT,
            Line,
            &[
                "Item Title",
                "Angebotstitel",
                "Artikelbezeichnung",
                "item_title",
                "title",
            ],
        ),
        f(
            "custom_label",
            NAME,
            Line,
            &[
                "Custom Label",
                "Custom Label (SKU)",
                "Bestandseinheit",
                "sku",
            ],
        ),
        f(
            "sold_via_promoted_listings",
            Bool,
            Line,
            &["Sold Via Promoted Listings", "Verkauft über Anzeigen"],
        ),
        f(
            "quantity",
            Integer {
                min: 1,
                max: 1_000_000,
            },
            Line,
            &["Quantity", "Anzahl", "Stückzahl", "quantity"],
        ),
        f(
            "sold_for",
            Money,
            Line,
            &[
                "Sold For",
                "Sale Price",
                "Item Price",
                "Verkauft für",
                "Verkaufspreis",
                "price",
            ],
        ),
        f(
            "shipping_and_handling",
            Money,
            Primary,
            &[
                "Shipping And Handling",
                "Postage And Packaging",
                "Postage And Handling",
                "Verpackung und Versand",
                "shipping_cost",
            ],
        ),
        f(
            "item_location",
            NAME,
            Line,
            &["Item Location", "Artikelstandort"],
        ),
        f(
            "item_zip_code",
            SHORT,
            Line,
            &["Item Zip Code", "Item Postcode"],
        ),
        f("item_country", NAME, Line, &["Item Country"]),
        f(
            "included_vat_rate",
            SHORT,
            Primary,
            &[
                "Included VAT Rate",
                "Inklusive MwSt.-Satz",
                "Inklusive Mehrwertsteuersatz",
            ],
        ),
        f(
            "ebay_collect_and_remit_tax_rate",
            SHORT,
            Primary,
            &["eBay Collect And Remit Tax Rate"],
        ),
        f(
            "ebay_collect_and_remit_tax_type",
            SHORT,
            Primary,
            &["eBay Collect And Remit Tax Type"],
        ),
        f(
            "ebay_reference_name",
            NAME,
            Primary,
            &["eBay Reference Name"],
        ),
        f(
            "ebay_reference_value",
            NAME,
            Primary,
            &["eBay Reference Value"],
        ),
        f("tax_status", SHORT, Primary, &["Tax Status"]),
        f(
            "seller_collected_tax",
            Money,
            Primary,
            &["Seller Collected Tax", "US Tax", "Sales Tax", "tax_amount"],
        ),
        f(
            "ebay_collected_tax",
            Money,
            Primary,
            &["eBay Collected Tax"],
        ),
        f(
            "electronic_waste_recycling_fee",
            Money,
            Primary,
            &["Electronic Waste Recycling Fee"],
        ),
        f(
            "mattress_recycling_fee",
            Money,
            Primary,
            &["Mattress Recycling Fee"],
        ),
        f(
            "battery_recycling_fee",
            Money,
            Primary,
            &["Battery Recycling Fee"],
        ),
        f(
            "white_goods_disposal_tax",
            Money,
            Primary,
            &["White Goods Disposal Tax"],
        ),
        f(
            "tire_recycling_fee",
            Money,
            Primary,
            &["Tire Recycling Fee", "Tyre Recycling Fee"],
        ),
        f("additional_fee", Money, Primary, &["Additional Fee"]),
        f("lumber_fee", Money, Primary, &["Lumber Fee"]),
        f(
            "prepaid_wireless_fee",
            Money,
            Primary,
            &["Prepaid Wireless Fee"],
        ),
        f(
            "road_improvement_and_food_delivery_fee",
            Money,
            Primary,
            &["Road Improvement And Food Delivery Fee"],
        ),
        f(
            "ebay_collected_charges",
            Money,
            Primary,
            &["eBay Collected Charges"],
        ),
        req(
            "total_price",
            Money,
            Primary,
            &[
                "Total Price",
                "Gesamtbetrag",
                "Gesamtpreis",
                "order_total",
                "total",
            ],
        ),
        f(
            "ebay_collected_tax_and_fees_included_in_total",
            Bool,
            Primary,
            &[
                "eBay Collected Tax and Fees Included in Total",
                "eBay Collected Tax Included in Total",
                "Total Includes eBay Collected Tax",
            ],
        ),
        f(
            "payment_method",
            SHORT,
            Primary,
            &["Payment Method", "Zahlungsmethode", "payment_method"],
        ),
        req(
            "sale_date",
            DateTime,
            Both,
            &[
                "Sale Date",
                "Order Date",
                "Verkauft am",
                "Verkaufsdatum",
                "order_date",
            ],
        ),
        f(
            "paid_on_date",
            DateTime,
            Primary,
            &["Paid On Date", "Zahlungsdatum", "payment_date"],
        ),
        f(
            "ship_by_date",
            Date,
            Primary,
            &["Ship By Date", "Post By Date"],
        ),
        f(
            "minimum_estimated_delivery_date",
            Date,
            Primary,
            &["Minimum Estimated Delivery Date"],
        ),
        f(
            "maximum_estimated_delivery_date",
            Date,
            Primary,
            &["Maximum Estimated Delivery Date"],
        ),
        f(
            "shipped_on_date",
            DateTime,
            Primary,
            &[
                "Shipped On Date",
                "Dispatched On Date",
                "Dispatch Date",
                "Verschickt am - Datum",
                "shipped_date",
            ],
        ),
        f("feedback_left", SHORT, Line, &["Feedback Left"]),
        f("feedback_received", SHORT, Line, &["Feedback Received"]),
        f(
            "my_item_note",
            LONG,
            Line,
            &["My Item Note", "Notes to Yourself", "Private Notes"],
        ),
        f(
            "paypal_transaction_id",
            SHORT,
            Primary,
            &["PayPal Transaction ID"],
        ),
        f(
            "shipping_service",
            NAME,
            Primary,
            &[
                "Shipping Service",
                "Delivery Service",
                "Postage Service",
                "Versandservice",
                "shipping_method",
            ],
        ),
        f(
            "tracking_number",
            Id(IdKind::Token),
            Both,
            &["Tracking Number", "Sendungsnummer", "tracking_number"],
        ),
        f(
            "transaction_id",
            Id(IdKind::Digits { min: 1, max: 19 }),
            Line,
            &["Transaction ID", "Transaktionsnummer", "Transaktions-ID"],
        ),
        f(
            "variation_details",
            TEXT,
            Line,
            &["Variation Details", "Variantendetails"],
        ),
        f(
            "global_shipping_program",
            Bool,
            Primary,
            &["Global Shipping Program", "Global Shipping Programme"],
        ),
        f(
            "global_shipping_reference_id",
            SHORT,
            Primary,
            &["Global Shipping Reference ID"],
        ),
        f("click_and_collect", Bool, Primary, &["Click And Collect"]),
        f(
            "click_and_collect_reference_number",
            SHORT,
            Primary,
            &["Click And Collect Reference Number"],
        ),
        f("ebay_plus", Bool, Primary, &["eBay Plus"]),
        f(
            "authenticity_verification_program",
            SHORT,
            Line,
            &["Authenticity Verification Program"],
        ),
        f(
            "authenticity_verification_status",
            SHORT,
            Line,
            &["Authenticity Verification Status"],
        ),
        f(
            "authenticity_verification_outcome_reason",
            NAME,
            Line,
            &["Authenticity Verification Outcome Reason"],
        ),
        f(
            "psa_vault_program",
            SHORT,
            Line,
            &["PSA Vault Program", "eBay Vault Program"],
        ),
        f(
            "vault_fulfillment_type",
            SHORT,
            Line,
            &["Vault Fulfillment Type"],
        ),
        f(
            "ebay_fulfillment_program",
            SHORT,
            Primary,
            &["eBay Fulfillment Program", "eBay Fulfilment Programme"],
        ),
        f("tax_city", NAME, Primary, &["Tax City"]),
        f("tax_state", NAME, Primary, &["Tax State"]),
        f("tax_zip", SHORT, Primary, &["Tax Zip"]),
        f("tax_country", NAME, Primary, &["Tax Country"]),
        f(
            "ebay_international_shipping",
            Bool,
            Primary,
            &["eBay International Shipping"],
        ),
        f(
            "currency",
            Currency,
            Primary,
            &["Currency", "Währung", "currency"],
        ),
        f(
            "order_status",
            Enum(&ORDER_STATUS),
            Primary,
            &["Order Status", "order_status", "status"],
        ),
        f(
            "payment_status",
            Enum(&PAYMENT_STATUS),
            Primary,
            &["Payment Status", "payment_status"],
        ),
        f(
            "shipping_status",
            Enum(&SHIPPING_STATUS),
            Primary,
            &["Shipping Status", "shipping_status"],
        ),
    ],
};
