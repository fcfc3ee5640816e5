//! One kernel per field type. Each takes a whole Arrow string column and returns the typed
//! column plus the bad values. Common rules: values are trimmed of surrounding white space;
//! a null or empty (after trim) input is a null output and no error (whether a value is
//! required is decided by the row model, not here); a bad value is a null output plus one
//! `ValueError` naming the row, a code and a message that says what to do.

use crate::ValueError;
use arrow_array::{
    BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray, TimestampSecondArray,
};
use ebay_import_map::{EnumDef, IdKind};
use ebay_import_model::SiteProfile;

pub fn text(col: &StringArray, max_chars: u32) -> (StringArray, Vec<ValueError>) {
    todo!("{col:?} {max_chars}")
}
pub fn id(col: &StringArray, kind: IdKind) -> (StringArray, Vec<ValueError>) {
    todo!("{col:?} {kind:?}")
}
pub fn email(col: &StringArray) -> (StringArray, Vec<ValueError>) {
    todo!("{col:?}")
}
/// Returns Decimal128(18, 2) amounts and, per row, the ISO currency its symbol named (null
/// when the value had no symbol).
pub fn money(col: &StringArray, site: &SiteProfile) -> (Decimal128Array, StringArray, Vec<ValueError>) {
    todo!("{col:?} {site:?}")
}
pub fn integer(col: &StringArray, min: i64, max: i64) -> (Int64Array, Vec<ValueError>) {
    todo!("{col:?} {min} {max}")
}
pub fn date(col: &StringArray, site: &SiteProfile) -> (Date32Array, Vec<ValueError>) {
    todo!("{col:?} {site:?}")
}
pub fn datetime(col: &StringArray, site: &SiteProfile) -> (TimestampSecondArray, Vec<ValueError>) {
    todo!("{col:?} {site:?}")
}
pub fn boolean(col: &StringArray, site: &SiteProfile) -> (BooleanArray, Vec<ValueError>) {
    todo!("{col:?} {site:?}")
}
pub fn enumeration(col: &StringArray, def: &EnumDef) -> (StringArray, Vec<ValueError>) {
    todo!("{col:?} {def:?}")
}
pub fn currency(col: &StringArray) -> (StringArray, Vec<ValueError>) {
    todo!("{col:?}")
}
