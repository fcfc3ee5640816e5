//! eBay site profiles: the locale rules of each site's exports, declared as data.

/// How one eBay site writes numbers, money, dates and booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteProfile {
    /// Short code, as `--site` takes it and the job records it.
    pub code: &'static str,
    /// How eBay's templates name the site (`SiteID=Germany`, `Country=DE`, numeric site ids).
    pub site_ids: &'static [&'static str],
    pub delimiter: u8,
    pub decimal_separator: u8,
    pub thousands_separator: u8,
    /// ISO 4217 code of a bare amount or an ambiguous `$`.
    pub currency: &'static str,
    /// How the site writes its currency in amounts, and whether after the number
    /// (`116,99 €`) or before it (`$12.34`). Any known symbol or code is read either way.
    pub currency_symbol: &'static str,
    pub symbol_after: bool,
    /// Month abbreviations beyond English that appear in this site's dates (lower case,
    /// index 0 = January). English abbreviations are always accepted.
    pub months: Option<&'static [&'static [&'static str]; 12]>,
    /// Numeric dates `1/2/2024`: true = month first (US), false = day first.
    pub month_first: bool,
    /// Words for true / false beyond `yes/no/true/false/1/0`.
    pub true_words: &'static [&'static str],
    pub false_words: &'static [&'static str],
}

const GERMAN_MONTHS: [&[&str]; 12] = [
    &["jan", "jän"],
    &["feb"],
    &["mär", "mrz", "maerz"],
    &["apr"],
    &["mai"],
    &["jun"],
    &["jul"],
    &["aug"],
    &["sep", "sept"],
    &["okt"],
    &["nov"],
    &["dez"],
];

const FRENCH_MONTHS: [&[&str]; 12] = [
    &["janv"],
    &["févr", "fevr", "fév"],
    &["mars"],
    &["avr"],
    &["mai"],
    &["juin"],
    &["juil"],
    &["août", "aout"],
    &["sept"],
    &["oct"],
    &["nov"],
    &["déc", "dec"],
];

const ITALIAN_MONTHS: [&[&str]; 12] = [
    &["gen"],
    &["feb"],
    &["mar"],
    &["apr"],
    &["mag"],
    &["giu"],
    &["lug"],
    &["ago"],
    &["set"],
    &["ott"],
    &["nov"],
    &["dic"],
];

pub const SITES: &[SiteProfile] = &[
    SiteProfile {
        code: "US",
        site_ids: &["US", "0"],
        delimiter: b',',
        decimal_separator: b'.',
        thousands_separator: b',',
        currency: "USD",
        currency_symbol: "$",
        symbol_after: false,
        months: None,
        month_first: true,
        true_words: &[],
        false_words: &[],
    },
    SiteProfile {
        code: "UK",
        site_ids: &["UK", "GB", "3"],
        delimiter: b',',
        decimal_separator: b'.',
        thousands_separator: b',',
        currency: "GBP",
        currency_symbol: "£",
        symbol_after: false,
        months: None,
        month_first: false,
        true_words: &[],
        false_words: &[],
    },
    SiteProfile {
        code: "AU",
        site_ids: &["AU", "Australia", "15"],
        delimiter: b',',
        decimal_separator: b'.',
        thousands_separator: b',',
        currency: "AUD",
        currency_symbol: "AU $",
        symbol_after: false,
        months: None,
        month_first: false,
        true_words: &[],
        false_words: &[],
    },
    SiteProfile {
        code: "DE",
        site_ids: &["Germany", "DE", "77"],
        delimiter: b';',
        decimal_separator: b',',
        thousands_separator: b'.',
        currency: "EUR",
        currency_symbol: "€",
        symbol_after: true,
        months: Some(&GERMAN_MONTHS),
        month_first: false,
        true_words: &["ja"],
        false_words: &["nein"],
    },
    SiteProfile {
        code: "FR",
        site_ids: &["France", "FR", "71"],
        delimiter: b';',
        decimal_separator: b',',
        thousands_separator: b' ',
        currency: "EUR",
        currency_symbol: "€",
        symbol_after: true,
        months: Some(&FRENCH_MONTHS),
        month_first: false,
        true_words: &["oui"],
        false_words: &["non"],
    },
    SiteProfile {
        code: "IT",
        site_ids: &["Italy", "IT", "101"],
        delimiter: b';',
        decimal_separator: b',',
        thousands_separator: b'.',
        currency: "EUR",
        currency_symbol: "€",
        symbol_after: true,
        months: Some(&ITALIAN_MONTHS),
        month_first: false,
        true_words: &["sì", "si"],
        false_words: &["no"],
    },
];

impl SiteProfile {
    pub fn by_code(code: &str) -> Option<&'static SiteProfile> {
        let code = if code.eq_ignore_ascii_case("GB") {
            "UK"
        } else {
            code
        };
        SITES.iter().find(|s| s.code.eq_ignore_ascii_case(code))
    }

    /// The site a template's `SiteID` or `Country` parameter names.
    pub fn by_site_id(id: &str) -> Option<&'static SiteProfile> {
        SITES
            .iter()
            .find(|s| s.site_ids.iter().any(|i| i.eq_ignore_ascii_case(id.trim())))
    }

    /// An amount as the site writes it, for messages: `$12.34`, `116,99 €`.
    pub fn example_amount(&self, units: u32, cents: u32) -> String {
        let dec = self.decimal_separator as char;
        match self.symbol_after {
            true => format!("{units}{dec}{cents:02} {}", self.currency_symbol),
            false => format!("{}{units}{dec}{cents:02}", self.currency_symbol),
        }
    }

    pub fn us() -> &'static SiteProfile {
        &SITES[0]
    }

    /// The sites that read numeric dates the other way round (day first where this one reads
    /// month first, or the reverse), those with this site's decimal separator first: the
    /// likelier home of a file whose dates only fit that order.
    pub fn other_date_order(&self) -> Vec<&'static SiteProfile> {
        let mut other: Vec<_> = SITES
            .iter()
            .filter(|s| s.month_first != self.month_first)
            .collect();
        other.sort_by_key(|s| s.decimal_separator != self.decimal_separator);
        other
    }

    /// How the sites of the other order read numeric dates, for messages.
    pub fn other_way(&self) -> &'static str {
        if self.month_first {
            "day first"
        } else {
            "month first"
        }
    }

    /// How the site reads `03/04/2024`, for messages.
    pub fn date_order(&self) -> &'static str {
        if self.month_first {
            "month first (03/04/2024 is 2024-03-04)"
        } else {
            "day first (03/04/2024 is 2024-04-03)"
        }
    }

    /// A plain CSV with a comma delimiter but decimal comma values is still possible; the
    /// profile only sets what an amount means when the file itself does not say.
    pub fn decimal_comma(&self) -> bool {
        self.decimal_separator == b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb_is_an_alias_of_uk() {
        assert_eq!(SiteProfile::by_code("gb").unwrap().code, "UK");
        assert_eq!(SiteProfile::by_code("de").unwrap().currency, "EUR");
        assert!(SiteProfile::by_code("xx").is_none());
        assert_eq!(
            SiteProfile::by_code("DE").unwrap().example_amount(116, 99),
            "116,99 €"
        );
        assert_eq!(
            SiteProfile::by_code("AU").unwrap().example_amount(12, 5),
            "AU $12.05"
        );
        assert_eq!(SiteProfile::by_site_id("Germany").unwrap().code, "DE");
    }

    #[test]
    fn the_other_date_order_starts_with_the_sites_of_the_same_decimal_separator() {
        let codes = |s: &SiteProfile| {
            s.other_date_order()
                .iter()
                .map(|s| s.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(SiteProfile::us()), ["UK", "AU", "DE", "FR", "IT"]);
        assert_eq!(codes(SiteProfile::by_code("DE").unwrap()), ["US"]);
    }
}
