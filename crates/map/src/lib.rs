//! Header mapping: import types declared as data, and the matching of a file's header row to
//! one of them.
//!
//! An import type is an [`ImportSchema`]: a list of [`FieldDef`]s (canonical name, type,
//! required or not, header aliases, target table) plus its row model. Adding a type is adding a
//! schema value here, not editing the pipeline.

mod customers;
mod fields;
mod listings;
mod orders;
mod products;

pub use customers::{CUSTOMERS, CUSTOMERS_FROM_ORDERS};
pub use listings::{LISTINGS, LISTING_ACTION, LISTING_FORMAT};
pub use orders::ORDERS;
pub use products::PRODUCTS;

use std::collections::HashMap;

/// What a value of a field is, and so which kernel parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Free text: trimmed, at most `max_chars` characters, no control characters.
    Text {
        max_chars: u32,
    },
    /// An identifier with a pattern; never coerced to a number.
    Id(IdKind),
    Email,
    /// An amount of money: Decimal128(18, 2) plus an ISO currency code.
    Money,
    /// A whole number within a range.
    Integer {
        min: i64,
        max: i64,
    },
    /// A calendar date.
    Date,
    /// A date with an optional time of day; no time zone is invented.
    DateTime,
    Bool,
    /// A closed set of values mapped to canonical names.
    Enum(&'static EnumDef),
    /// An ISO 4217 code.
    Currency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `NN-NNNNN-NNNNN`, legacy `ItemID-TransactionID`, or 10–19 digits.
    OrderNumber,
    /// 9–15 digits.
    ItemNumber,
    /// Digits only, `min..=max` of them.
    Digits { min: u8, max: u8 },
    /// Any text without spaces that does not look like a spreadsheet-mangled number.
    Token,
    /// A GTIN with a valid check digit: UPC-A (12 digits), or EAN-8 / EAN-13 (8 or 13
    /// digits, ISBN-13 included). eBay's placeholder `Does not apply` is no value.
    Gtin,
    /// ISBN-10 (last digit 0-9 or X) or ISBN-13, check digit verified; hyphens allowed.
    Isbn,
}

/// A closed set of values: each accepted spelling (compared case-insensitively after trim)
/// maps to a canonical value.
#[derive(Debug, PartialEq, Eq)]
pub struct EnumDef {
    pub name: &'static str,
    pub values: &'static [(&'static str, &'static str)],
}

impl EnumDef {
    pub fn canonical(&self, input: &str) -> Option<&'static str> {
        let input = input.trim();
        self.values
            .iter()
            .find(|(spelling, _)| spelling.eq_ignore_ascii_case(input))
            .map(|(_, canonical)| *canonical)
    }
}

/// Which stored table a field's value lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The entity table (e.g. `orders`).
    Primary,
    /// The line table (e.g. `order_items`).
    Line,
    /// Both: keys and values that order and line rows share.
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// Canonical name: snake_case, also the SQL column name.
    pub name: &'static str,
    pub ty: FieldType,
    /// The column must be present in the file's header.
    pub required: bool,
    pub target: Target,
    /// Header spellings that map to this field, compared after [`normalize_header`].
    pub aliases: &'static [&'static str],
}

/// How the rows of a file become stored entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowModel {
    /// eBay Orders report: a single-item order is one row; a multi-item order is a summary row
    /// followed by item rows; unpaid orders are keyed by sales record number. Fields land in
    /// `orders`, `items` or both, as their [`Target`] says.
    EbayOrders {
        orders: &'static str,
        items: &'static str,
    },
    /// One row is one entity of `table`, keyed by its natural key.
    Keyed(&'static KeyedModel),
}

/// A type whose every row is one entity: listings, products, customers.
#[derive(Debug, PartialEq, Eq)]
pub struct KeyedModel {
    pub table: &'static str,
    /// The stored natural-key column.
    pub key_column: &'static str,
    /// Where the key comes from: the first of these fields with a value, its value prefixed
    /// (so keys from different fields never collide). A row with none is rejected.
    pub keys: &'static [KeySource],
    /// The column that keeps the file's attribute columns (see
    /// [`ImportSchema::attribute_prefixes`]) as one JSON object.
    pub attributes: Option<&'static str>,
    /// Tables derived from each stored row, e.g. the product behind a listing.
    pub derived: &'static [DerivedTable],
}

#[derive(Debug, PartialEq, Eq)]
pub struct KeySource {
    pub field: &'static str,
    pub prefix: &'static str,
}

/// Rows of another table made from each stored row of a type: keyed by `key_field`'s value
/// (rows without one make none), with `columns` as (stored column, source field). The first
/// row of a file with a given key makes that key's row; later ones are counted, not written.
#[derive(Debug, PartialEq, Eq)]
pub struct DerivedTable {
    pub table: &'static str,
    pub key_column: &'static str,
    pub key_field: &'static str,
    pub columns: &'static [(&'static str, &'static str)],
}

#[derive(Debug, PartialEq, Eq)]
pub struct ImportSchema {
    /// `orders`, `listings`, …: what `--type` takes and the job records.
    pub name: &'static str,
    pub fields: &'static [FieldDef],
    pub row_model: RowModel,
    /// Groups of fields of which the header must name at least one (e.g. a listing's item
    /// number or custom label); reported as missing like a required field.
    pub required_any: &'static [&'static [&'static str]],
    /// Header prefixes (normalized, e.g. `c:`) of columns kept as key/value attributes
    /// instead of fields: item specifics and condition descriptors vary by category.
    pub attribute_prefixes: &'static [&'static str],
    /// The report layouts this type is known in, told apart by their header.
    pub variants: &'static [Variant],
    /// Summary tables the store refreshes from this type's stored rows at each commit.
    pub rollups: &'static [&'static Rollup],
}

/// A table kept as a summary of another, e.g. customers from orders: one row per value of
/// `group_by` in `source`, refreshed for the groups a job wrote. The group's most recent row
/// (by `order_by`, then `source_key`) gives the `latest` columns (each the first non-null of
/// its source columns); `first`, `last` and `count` are the group's earliest and latest
/// `order_by` and its number of rows.
#[derive(Debug, PartialEq, Eq)]
pub struct Rollup {
    pub table: &'static str,
    pub key_column: &'static str,
    pub source: &'static str,
    pub source_key: &'static str,
    pub group_by: &'static str,
    pub order_by: &'static str,
    pub latest: &'static [(&'static str, &'static [&'static str])],
    pub first: &'static str,
    pub last: &'static str,
    pub count: &'static str,
}

/// One known layout of a type (an eBay report, template or export of some year and site):
/// a header names it when it holds every column of `signature` (normalized names). The
/// longest matching signature wins; an empty one matches any header.
#[derive(Debug, PartialEq, Eq)]
pub struct Variant {
    pub name: &'static str,
    /// Written by eBay (a report, template or export), not a canonical CSV: its dates have
    /// eBay's layouts, so a numeric one was rewritten by a spreadsheet.
    pub ebay: bool,
    /// The eBay site whose files have this layout, when only one site's do.
    pub site: Option<&'static str>,
    pub signature: &'static [&'static str],
}

pub const SCHEMAS: &[&ImportSchema] = &[&ORDERS, &LISTINGS, &PRODUCTS, &CUSTOMERS];

impl ImportSchema {
    pub fn by_name(name: &str) -> Option<&'static ImportSchema> {
        SCHEMAS
            .iter()
            .copied()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// How messages name one entity of the type: `listings` -> `listing`.
    pub fn entity(&self) -> &'static str {
        self.name.strip_suffix('s').unwrap_or(self.name)
    }

    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    fn alias_index(&self) -> HashMap<String, usize> {
        let mut index = HashMap::new();
        for (i, f) in self.fields.iter().enumerate() {
            index.insert(normalize_header(f.name), i);
            for alias in f.aliases {
                index.insert(normalize_header(alias), i);
            }
        }
        index
    }

    /// Maps a header row onto this schema.
    pub fn map_header(&'static self, header: &[String]) -> HeaderMapping {
        let index = self.alias_index();
        let mut file_to_field = vec![None; header.len()];
        let mut field_to_file = vec![None; self.fields.len()];
        let mut unknown = Vec::new();
        let mut attributes: Vec<usize> = Vec::new();
        let mut params = Vec::new();
        // (the column that claimed a field or attribute first, a later column claiming it too)
        let mut repeats: Vec<(usize, usize)> = Vec::new();
        let mut attribute_names: HashMap<String, usize> = HashMap::new();
        let mut unnamed = Vec::new();
        for (col, name) in header.iter().enumerate() {
            let norm = normalize_header(name);
            if norm.is_empty() {
                unnamed.push(col);
                continue;
            }
            // A template's smart header, `*Action(SiteID=US|...|CC=UTF-8)`, names the field
            // before the parentheses and carries the file's parameters inside them.
            let (base, call) = match smart_header(name) {
                Some((base, p)) if index.contains_key(&normalize_header(base)) => {
                    (normalize_header(base), Some(p))
                }
                _ => (norm.clone(), None),
            };
            match index.get(&base) {
                Some(&field) => match field_to_file[field] {
                    None => {
                        field_to_file[field] = Some(col);
                        file_to_field[col] = Some(field);
                        params.extend(call.unwrap_or_default());
                    }
                    Some(first) => repeats.push((first, col)),
                },
                None if self.attribute_prefixes.iter().any(|p| norm.starts_with(p)) => {
                    match attribute_names.get(&norm) {
                        Some(&first) => repeats.push((first, col)),
                        None => {
                            attribute_names.insert(norm, col);
                            attributes.push(col);
                        }
                    }
                }
                None => unknown.push(name.clone()),
            }
        }
        let duplicates = self.duplicates(repeats, header, &file_to_field);
        let mut missing: Vec<String> = self
            .fields
            .iter()
            .zip(&field_to_file)
            .filter(|(f, col)| f.required && col.is_none())
            .map(|(f, _)| f.name.to_string())
            .collect();
        for group in self.required_any {
            let present = group
                .iter()
                .any(|n| self.field(n).is_some_and(|f| field_to_file[f].is_some()));
            if !present {
                missing.push(group.join(" or "));
            }
        }
        HeaderMapping {
            schema: self,
            file_to_field,
            field_to_file,
            unknown,
            missing,
            attributes,
            params,
            duplicates,
            unnamed,
        }
    }
}

/// Several columns of one header that feed the same field (or attribute): which one holds
/// the data cannot be known, so an import refuses the file rather than drop one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The field (or attribute) they all map to.
    pub target: String,
    /// The 0-based file columns, in file order.
    pub columns: Vec<usize>,
    /// The header names of those columns.
    pub names: Vec<String>,
}

impl ImportSchema {
    /// Groups the repeated claims of [`Self::map_header`] by the column that made the first.
    fn duplicates(
        &self,
        mut repeats: Vec<(usize, usize)>,
        header: &[String],
        file_to_field: &[Option<usize>],
    ) -> Vec<Duplicate> {
        // A stable sort keeps each group's columns in file order.
        repeats.sort_by_key(|&(first, _)| first);
        repeats
            .chunk_by(|a, b| a.0 == b.0)
            .map(|group| {
                let first = group[0].0;
                let columns: Vec<usize> = std::iter::once(first)
                    .chain(group.iter().map(|&(_, c)| c))
                    .collect();
                Duplicate {
                    target: match file_to_field[first] {
                        Some(f) => self.fields[f].name.to_string(),
                        None => bare_header(&header[first]).to_string(),
                    },
                    names: columns.iter().map(|&c| header[c].clone()).collect(),
                    columns,
                }
            })
            .collect()
    }
}

/// The result of matching a header row to a schema.
#[derive(Debug, Clone)]
pub struct HeaderMapping {
    pub schema: &'static ImportSchema,
    /// For each file column, the schema field it feeds.
    pub file_to_field: Vec<Option<usize>>,
    /// For each schema field, the file column it comes from.
    pub field_to_file: Vec<Option<usize>>,
    /// Header cells that match no field (named in one warning, then ignored).
    pub unknown: Vec<String>,
    /// Required fields with no column: the job fails before anything is written.
    pub missing: Vec<String>,
    /// File columns kept as attributes (item specifics, condition descriptors), in file
    /// order: the reader puts them after the present fields.
    pub attributes: Vec<usize>,
    /// The parameters of a template's smart header (`SiteID`, `Currency`, `CC`, ...).
    pub params: Vec<(String, String)>,
    /// Fields (and attributes) that more than one column maps to.
    pub duplicates: Vec<Duplicate>,
    /// File columns whose header name is empty.
    pub unnamed: Vec<usize>,
}

impl HeaderMapping {
    pub fn matched(&self) -> usize {
        self.field_to_file.iter().filter(|c| c.is_some()).count()
    }

    /// The header's columns this type takes: its fields and attributes.
    pub fn known(&self) -> usize {
        self.matched() + self.attributes.len()
    }

    /// The header names of the columns that feed fields, in file order.
    pub fn field_columns<'h>(&self, header: &'h [String]) -> Vec<&'h str> {
        (0..header.len())
            .filter(|&c| self.file_to_field[c].is_some())
            .map(|c| header[c].as_str())
            .collect()
    }

    /// The fields present in the file, in canonical order: the columns of every batch.
    pub fn present_fields(&self) -> Vec<usize> {
        (0..self.schema.fields.len())
            .filter(|&f| self.field_to_file[f].is_some())
            .collect()
    }

    /// For each file column, its position among [`Self::present_fields`] followed by the
    /// attribute columns: the reader's projection into canonical order.
    pub fn projection(&self) -> Vec<Option<usize>> {
        let present = self.present_fields();
        self.file_to_field
            .iter()
            .enumerate()
            .map(|(col, f)| match f {
                Some(f) => present.iter().position(|p| p == f),
                None => self
                    .attributes
                    .iter()
                    .position(|&a| a == col)
                    .map(|k| present.len() + k),
            })
            .collect()
    }

    /// The attribute names, as the header spells them without eBay's `*` marker.
    pub fn attribute_names(&self, header: &[String]) -> Vec<String> {
        self.attributes
            .iter()
            .map(|&c| bare_header(&header[c]).to_string())
            .collect()
    }

    /// The known layout the header is in, if any.
    pub fn variant(&self, header: &[String]) -> Option<&'static Variant> {
        let names: Vec<String> = header
            .iter()
            .map(|h| match smart_header(h) {
                Some((base, _)) => normalize_header(base),
                None => normalize_header(h),
            })
            .collect();
        self.schema
            .variants
            .iter()
            .filter(|v| v.signature.iter().all(|s| names.iter().any(|n| n == s)))
            .max_by_key(|v| v.signature.len())
    }

    /// The value of a smart-header parameter, by case-insensitive name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits `*Action(SiteID=US|Country=US|CC=UTF-8)` into `Action` and its parameters.
fn smart_header(name: &str) -> Option<(&str, Vec<(String, String)>)> {
    let (base, rest) = bare_header(name).split_once('(')?;
    let inner = rest.strip_suffix(')')?;
    let params = inner
        .split('|')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect::<Vec<_>>();
    (!params.is_empty()).then_some((base, params))
}

/// A header cell without surrounding white space, a BOM and eBay's leading `*`.
fn bare_header(name: &str) -> &str {
    name.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .trim_start_matches('*')
        .trim()
}

/// Trims spaces, tabs, a BOM and a leading `*` (eBay's required-column marker), folds case and
/// inner runs of white space.
pub fn normalize_header(name: &str) -> String {
    let trimmed = bare_header(name);
    let mut out = String::with_capacity(trimmed.len());
    let mut last_space = false;
    for c in trimmed.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.extend(c.to_lowercase());
            last_space = false;
        }
    }
    out
}

/// Why a header row matched no import type well enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    Found(&'static ImportSchema),
    Ambiguous(Vec<&'static str>),
    /// The closest types, each with its missing required columns.
    NoMatch(Vec<(&'static str, Vec<String>)>),
}

/// The smallest score that makes a row a header row: two known column names.
pub const MIN_HEADER_SCORE: usize = 2;

/// How many times as many of a header's columns another type must take before a type forced
/// onto it counts as the wrong one.
pub const BETTER_FIT: usize = 2;

/// Another type that fits a header far better than the one `forced` maps it to: all its
/// required columns are there and it takes more than [`BETTER_FIT`] times as many of the
/// header's columns. Every type shares a few generic names (a title, a quantity, a custom
/// label) with the others, so a type forced onto another's file finds its required columns
/// in it, takes those few and ignores the rest; the proportion tells it apart from a file of
/// the type with few columns (an "Edit price and quantity" download), which no other type
/// fits at all. The best of several is the one that takes the most columns.
pub fn better_fit(header: &[String], forced: &HeaderMapping) -> Option<HeaderMapping> {
    SCHEMAS
        .iter()
        .filter(|s| s.name != forced.schema.name)
        .map(|s| s.map_header(header))
        .filter(|m| m.missing.is_empty() && m.known() > BETTER_FIT * forced.known())
        .max_by_key(HeaderMapping::known)
}

/// Detects the import type from a header row: the types whose required columns are all present;
/// among several, the one matching the most columns, unless two tie.
pub fn detect(header: &[String]) -> Detection {
    let mut complete: Vec<(&'static ImportSchema, usize)> = Vec::new();
    let mut partial = Vec::new();
    for schema in SCHEMAS {
        let m = schema.map_header(header);
        if m.missing.is_empty() {
            complete.push((schema, m.matched()));
        } else if m.matched() > 0 {
            let matched = m.matched();
            partial.push((schema.name, m.missing, matched));
        }
    }
    complete.sort_by_key(|(_, matched)| std::cmp::Reverse(*matched));
    match complete.as_slice() {
        [] => {
            partial.sort_by_key(|(_, _, matched)| std::cmp::Reverse(*matched));
            Detection::NoMatch(partial.into_iter().map(|(n, m, _)| (n, m)).collect())
        }
        [(only, _)] => Detection::Found(only),
        [(a, ma), (b, mb), ..] if ma == mb => Detection::Ambiguous(vec![a.name, b.name]),
        [(best, _), ..] => Detection::Found(best),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalizes_bom_star_case_and_tabs() {
        assert_eq!(
            normalize_header("\u{feff} *Sales  Record\tNumber \t"),
            "sales record number"
        );
    }

    #[test]
    fn us_uk_and_seed_headers_map_to_the_same_fields() {
        for header in [
            row(&[
                "Sales Record Number",
                "Order Number",
                "Buyer Name",
                "Total Price",
                "Sale Date",
            ]),
            row(&[
                "Sales record number",
                "Order number",
                "Buyer name",
                "Total price",
                "Sale date",
            ]),
            row(&["order_id", "buyer_name", "order_total", "order_date"]),
            row(&[
                "Verkaufsprotokollnummer",
                "Bestellnummer",
                "Name des Käufers",
                "Gesamtbetrag",
                "Verkauft am",
            ]),
        ] {
            let m = ORDERS.map_header(&header);
            assert!(m.missing.is_empty(), "{header:?}: missing {:?}", m.missing);
            assert_eq!(detect(&header), Detection::Found(&ORDERS));
        }
    }

    #[test]
    fn missing_required_columns_are_listed() {
        let m = ORDERS.map_header(&row(&["Order Number", "Buyer Name", "Something"]));
        assert_eq!(m.missing, vec!["total_price", "sale_date"]);
        assert_eq!(m.unknown, vec!["Something"]);
        match detect(&row(&["Order Number", "Buyer Name"])) {
            Detection::NoMatch(closest) => assert_eq!(closest[0].0, "orders"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn projection_follows_canonical_order() {
        let m = ORDERS.map_header(&row(&[
            "Total Price",
            "x",
            "Order Number",
            "Sale Date",
            "Buyer Name",
        ]));
        let present = m.present_fields();
        assert_eq!(present.len(), 4);
        let proj = m.projection();
        assert_eq!(proj[1], None);
        // order_number comes before total_price in the schema.
        assert!(proj[2] < proj[0]);
    }

    #[test]
    fn every_82_column_us_header_is_known() {
        let header: Vec<String> = include_str!("../tests/orders-report-us-82col.headers.txt")
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(header.len(), 82);
        let m = ORDERS.map_header(&header);
        assert!(m.unknown.is_empty(), "unknown: {:?}", m.unknown);
        assert_eq!(m.matched(), 82);
    }

    #[test]
    fn a_template_smart_header_names_the_action_and_carries_its_parameters() {
        let header = row(&[
            "\u{feff}*Action(SiteID=Germany|Country=DE|Currency=EUR|Version=1193|CC=ISO-8859-1)",
            "CustomLabel",
            "*Title",
            "Custom label (SKU)",
            "*C:Brand",
            "C:Farbe",
            "CD:Grade - (ID: 27502)",
            "P:UPC",
        ]);
        let m = LISTINGS.map_header(&header);
        assert!(m.missing.is_empty(), "{:?}", m.missing);
        assert_eq!(m.file_to_field[0], LISTINGS.field("action"));
        assert_eq!(m.param("siteid"), Some("Germany"));
        assert_eq!(m.param("CC"), Some("ISO-8859-1"));
        // `Custom label (SKU)` is no smart header: a second custom label column.
        assert!(m.unknown.is_empty(), "{:?}", m.unknown);
        assert_eq!(
            m.duplicates,
            vec![Duplicate {
                target: "custom_label".into(),
                columns: vec![1, 3],
                names: vec!["CustomLabel".into(), "Custom label (SKU)".into()],
            }]
        );
        assert_eq!(m.file_to_field[4], LISTINGS.field("brand"));
        assert_eq!(m.file_to_field[7], LISTINGS.field("upc"));
        assert_eq!(m.attributes, vec![5, 6]);
        assert_eq!(
            m.attribute_names(&header),
            vec!["C:Farbe", "CD:Grade - (ID: 27502)"]
        );
        // Attribute columns come after the present fields, in file order.
        let proj = m.projection();
        let present = m.present_fields().len();
        assert_eq!((proj[5], proj[6]), (Some(present), Some(present + 1)));
        assert_eq!(m.variant(&header), None);
    }

    #[test]
    fn columns_claiming_one_field_or_attribute_are_duplicates_and_empty_names_unnamed() {
        let header = row(&[
            "Order Number",
            "Buyer Email",
            "",
            "Buyer Name",
            "email",
            " ",
            "Buyer Email",
        ]);
        let m = ORDERS.map_header(&header);
        assert_eq!(
            m.duplicates,
            vec![Duplicate {
                target: "buyer_email".into(),
                columns: vec![1, 4, 6],
                names: vec!["Buyer Email".into(), "email".into(), "Buyer Email".into()],
            }]
        );
        assert_eq!(
            m.field_to_file[ORDERS.field("buyer_email").unwrap()],
            Some(1)
        );
        assert_eq!(m.unnamed, vec![2, 5]);
        assert!(m.unknown.is_empty());
        let listing = row(&["Item number", "Title", "C:Color", "*C:color", "C:Size"]);
        let m = LISTINGS.map_header(&listing);
        assert_eq!(m.attributes, vec![2, 4]);
        assert_eq!(m.duplicates[0].target, "C:Color");
        assert_eq!(m.duplicates[0].columns, vec![2, 3]);
    }

    #[test]
    fn a_type_forced_onto_another_types_header_is_told_apart_by_proportion() {
        let us82: Vec<String> = include_str!("../tests/orders-report-us-82col.headers.txt")
            .lines()
            .map(str::to_string)
            .collect();
        // An Orders report holds a listing's required columns (title, item number, custom
        // label) among its 82, and nothing else a listing has.
        let as_listings = LISTINGS.map_header(&us82);
        assert!(as_listings.missing.is_empty());
        assert_eq!(as_listings.known(), 5);
        let better = better_fit(&us82, &as_listings).expect("orders fits better");
        assert_eq!((better.schema.name, better.known()), ("orders", 82));
        assert!(better_fit(&us82, &ORDERS.map_header(&us82)).is_none());
        // A listings file with few columns fits no other type.
        let revise = row(&[
            "Action",
            "Item number",
            "Title",
            "Start price",
            "Available quantity",
        ]);
        assert!(better_fit(&revise, &LISTINGS.map_header(&revise)).is_none());
        // A canonical products CSV shares most names with listings, which lacks its key.
        let products = row(&["sku", "title", "quantity", "price", "upc", "brand"]);
        assert!(better_fit(&products, &PRODUCTS.map_header(&products)).is_none());
    }

    #[test]
    fn a_listing_needs_an_item_number_or_a_custom_label() {
        let m = LISTINGS.map_header(&row(&["Title", "Start price"]));
        assert_eq!(m.missing, vec!["item_number or custom_label"]);
        let m = LISTINGS.map_header(&row(&["Title", "CustomLabel"]));
        assert!(m.missing.is_empty());
    }

    #[test]
    fn layouts_are_told_apart_by_their_longest_matching_signature() {
        let us82: Vec<String> = include_str!("../tests/orders-report-us-82col.headers.txt")
            .lines()
            .map(str::to_string)
            .collect();
        let name = |h: &[String]| ORDERS.map_header(h).variant(h).map(|v| v.name);
        assert_eq!(
            name(&us82),
            Some("Seller Hub Orders report, 82 columns (US)")
        );
        let uk: Vec<String> = include_str!("../tests/orders-report-uk.headers.txt")
            .lines()
            .map(str::to_string)
            .collect();
        let uk_variant = ORDERS.map_header(&uk).variant(&uk).expect("a layout");
        assert_eq!(uk_variant.site, Some("UK"));
        assert!(uk_variant.ebay);
        let canonical = row(&["order_id", "buyer_name", "order_total", "order_date"]);
        let v = ORDERS.map_header(&canonical).variant(&canonical).unwrap();
        assert!(!v.ebay);
        assert_eq!(name(&row(&["Order Number", "Buyer Name"])), None);
    }

    #[test]
    fn each_file_kind_is_detected_as_its_own_type() {
        let listing = row(&[
            "Item ID",
            "Custom Label",
            "Quantity Available",
            "Price",
            "Item Title",
        ]);
        assert_eq!(detect(&listing), Detection::Found(&LISTINGS));
        let products = row(&["sku", "title", "quantity", "price", "upc"]);
        assert_eq!(detect(&products), Detection::Found(&PRODUCTS));
        let customers = row(&["username", "name", "email", "city"]);
        assert_eq!(detect(&customers), Detection::Found(&CUSTOMERS));
        // An Orders report also names an item number and a title, but matches orders best.
        let us82: Vec<String> = include_str!("../tests/orders-report-us-82col.headers.txt")
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(detect(&us82), Detection::Found(&ORDERS));
    }

    #[test]
    fn every_uk_header_is_known() {
        let header: Vec<String> = include_str!("../tests/orders-report-uk.headers.txt")
            .lines()
            .map(str::to_string)
            .collect();
        let m = ORDERS.map_header(&header);
        assert!(m.unknown.is_empty(), "unknown: {:?}", m.unknown);
        assert!(m.missing.is_empty());
    }
}

/// Header spellings that only one eBay site's exports use; the site profile is picked by them
/// (US when none matches).
pub const SITE_HINTS: &[(&str, &str)] = &[
    ("postage and handling", "AU"),
    ("post to name", "UK"),
    ("postage and packaging", "UK"),
    ("dispatched on date", "UK"),
    ("buyer postcode", "UK"),
    ("verkaufsprotokollnummer", "DE"),
    ("bestellnummer", "DE"),
    ("verkauft am", "DE"),
    ("numéro de commande", "FR"),
    ("numero ordine", "IT"),
];

/// The site whose hints match the header most, if any, and the first of its hints there.
pub fn detect_site(header: &[String]) -> Option<(&'static str, &'static str)> {
    let names: Vec<String> = header.iter().map(|h| normalize_header(h)).collect();
    let found = |hint: &str| names.iter().any(|h| h == hint);
    let mut best: Option<(&'static str, &'static str, usize)> = None;
    for (_, site) in SITE_HINTS {
        let mut hints = SITE_HINTS
            .iter()
            .filter(|(hint, s)| s == site && found(hint));
        let Some(&(first, _)) = hints.next() else {
            continue;
        };
        let n = 1 + hints.count();
        if best.is_none_or(|(_, _, b)| n > b) {
            best = Some((site, first, n));
        }
    }
    best.map(|(s, hint, _)| (s, hint))
}

#[cfg(test)]
mod site_tests {
    use super::*;

    #[test]
    fn detects_sites_from_header_words() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            detect_site(&h(&[
                "Sales Record Number",
                "Post to name",
                "Postage and packaging"
            ])),
            Some(("UK", "post to name"))
        );
        assert_eq!(
            detect_site(&h(&["Verkaufsprotokollnummer", "Bestellnummer"])),
            Some(("DE", "verkaufsprotokollnummer"))
        );
        assert_eq!(
            detect_site(&h(&["Sales Record Number", "Order Number"])),
            None
        );
        assert_eq!(
            detect_site(&h(&["Post To Name", "Postage And Handling"])),
            Some(("AU", "postage and handling"))
        );
    }
}
