//! Shorthands the schema declarations share.

use crate::{FieldDef, FieldType, Target};

pub(crate) const fn f(
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

pub(crate) const fn req(
    name: &'static str,
    ty: FieldType,
    target: Target,
    aliases: &'static [&'static str],
) -> FieldDef {
    FieldDef {
        required: true,
        ..f(name, ty, target, aliases)
    }
}

pub(crate) const TEXT: FieldType = FieldType::Text { max_chars: 1000 };
pub(crate) const NAME: FieldType = FieldType::Text { max_chars: 255 };
pub(crate) const SHORT: FieldType = FieldType::Text { max_chars: 100 };
pub(crate) const LONG: FieldType = FieldType::Text { max_chars: 4000 };
