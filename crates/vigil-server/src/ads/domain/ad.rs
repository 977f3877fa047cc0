//! A political advertisement as filed, with every item of the transparency
//! notice of Regulation (EU) 2024/900, Art. 12(1) (template: Implementing
//! Regulation (EU) 2025/1410), the sponsor's Art. 5(2) declaration, and the
//! targeting information of Art. 19. The entities are kept apart: sponsor,
//! the entity ultimately controlling it, payer, beneficiary, publisher and
//! service providers. Money is exact (see `money`). Checking names every
//! faulty field; nothing here does I/O.
use super::money::{AmountError, Currency, Money, MoneyRange, format_minor, parse_minor};
use crate::core::error::FieldError;
use serde::{Deserialize, Serialize};

/// One party to an ad (Art. 12(1)(a)–(b)): for a legal person its name,
/// registration number and country of establishment; for a natural person
/// the name and country of residence. Contact details are published, as the
/// notice requires.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<String>,
    /// ISO 3166-1 alpha-2 country of establishment or residence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// The sponsor's declaration under Art. 5(2), required in the three months
/// before an election the ad is linked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SponsorDeclaration {
    /// (a) a citizen of the Union.
    EuCitizen,
    /// (b) a third-country national permanently resident in the Union with
    /// the right to vote in that election.
    ResidentThirdCountryVoter,
    /// (c) a legal person established in the Union, not ultimately owned or
    /// controlled from outside it.
    EuLegalPersonNotForeignControlled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingOrigin {
    Public,
    Private,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingSource {
    /// From within the Union.
    Eu,
    NonEu,
}

/// Amounts paid and the value of other benefits (Art. 12(1)(d)–(f)), as a
/// decimal string in the currency, with their origin and how they were
/// calculated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spend {
    pub currency: Currency,
    /// For this ad, e.g. `"1200.00"`.
    pub amount: String,
    /// For the whole campaign the ad belongs to, when relevant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_amount: Option<String>,
    /// The value of other benefits received, in the same currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_benefits: Option<String>,
    pub origin: FundingOrigin,
    pub source: FundingSource,
    /// How the amounts were calculated (Art. 12(1)(f)).
    pub method: String,
}

/// A figure platforms publish as a bucket: lower and optional upper bound.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountRange {
    pub lower: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<u64>,
}

/// Targeting and ad-delivery techniques (Art. 18–19).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targeting {
    pub used: bool,
    pub criteria_included: Vec<String>,
    pub criteria_excluded: Vec<String>,
    /// Categories of personal data used, e.g. `location`, `age`, `interests`.
    pub personal_data_categories: Vec<String>,
    /// Special categories of personal data (GDPR Art. 9(1)) used for
    /// profiling, e.g. `political_opinions`: forbidden by Art. 18(1)(c).
    pub special_categories: Vec<String>,
    /// The youngest age targeted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<u32>,
    /// `explicit_consent` (Art. 18(1)(b)), or what else was relied on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_basis: Option<String>,
    pub ai_systems_used: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub people_reached: Option<u64>,
}

/// A share of the ad's delivery, as a decimal string between 0 and 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryShare {
    pub key: String,
    pub share: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    pub by_age: Vec<DeliveryShare>,
    pub by_gender: Vec<DeliveryShare>,
    pub by_region: Vec<DeliveryShare>,
}

/// A media file of the creative, identified by its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaFile {
    pub sha256: String,
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Creative {
    pub text: String,
    /// ISO 639-1.
    pub language: String,
    #[serde(default)]
    pub media: Vec<MediaFile>,
}

/// The ad as filed or imported: what every version holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdContent {
    pub title: String,
    pub sponsor: Entity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<Entity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Entity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Entity>,
    pub publisher: Entity,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_providers: Vec<Entity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor_declaration: Option<SponsorDeclaration>,
    /// The id of the election or referendum in the calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub election: Option<String>,
    /// A legislative or regulatory process the ad is linked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legislative_process: Option<String>,
    pub creative: Creative,
    /// ISO 3166-1 alpha-2 countries where it was disseminated.
    pub countries: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Intended publication period, `YYYY-MM-DD`.
    pub period_start: String,
    pub period_end: String,
    /// When it was first published (RFC 3339), for timeliness checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_published_at: Option<String>,
    /// Exact amounts (a filing); imports have `spend_range` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend: Option<Spend>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend_range: Option<MoneyRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impressions: Option<CountRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<u64>,
    #[serde(default)]
    pub targeting: Targeting,
    #[serde(default)]
    pub delivery: Delivery,
    /// Whether an earlier publication of it was suspended or discontinued
    /// for infringing the Regulation.
    #[serde(default)]
    pub previously_suspended: bool,
    /// Ids of the same ad elsewhere (`meta`, `google`, the publisher's own).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub external_ids: std::collections::BTreeMap<String, String>,
}

/// An ISO 3166-1 alpha-2 code (two capital letters).
pub fn is_country(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A calendar date `YYYY-MM-DD`.
pub fn is_date(text: &str) -> bool {
    crate::core::time::Timestamp::parse(&format!("{text}T00:00:00Z")).is_some() && text.len() == 10
}

fn amount_error(field: &str, e: AmountError) -> FieldError {
    FieldError::new(field, e.to_string())
}

/// A decimal share between 0 and 1 with at most six decimals.
fn is_share(text: &str) -> bool {
    let Some((whole, fraction)) = text.split_once('.') else {
        return text == "0" || text == "1";
    };
    !fraction.is_empty()
        && fraction.len() <= 6
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && (whole == "0" || (whole == "1" && fraction.bytes().all(|b| b == b'0')))
}

impl AdContent {
    /// Checks the content and writes amounts in their canonical form
    /// (`"1200"` becomes `"1200.00"`). Every fault is named by its path.
    pub fn check(&mut self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fault = |field: &str, message: &str| errors.push(FieldError::new(field, message));
        if self.title.trim().is_empty() || self.title.len() > 300 {
            fault("title", "a title of 1 to 300 characters is required");
        }
        let entities = [
            ("sponsor", Some(&self.sponsor)),
            ("controller", self.controller.as_ref()),
            ("payer", self.payer.as_ref()),
            ("beneficiary", self.beneficiary.as_ref()),
            ("publisher", Some(&self.publisher)),
        ];
        let providers = self
            .service_providers
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("service_providers[{i}]"), e));
        for (field, entity) in entities
            .iter()
            .filter_map(|(f, e)| e.map(|e| (f.to_string(), e)))
            .chain(providers)
        {
            if entity.name.trim().is_empty() {
                fault(&format!("{field}.name"), "the name is required");
            }
            if let Some(country) = &entity.country
                && !is_country(country)
            {
                fault(
                    &format!("{field}.country"),
                    "an ISO 3166-1 alpha-2 code such as DE",
                );
            }
            if let Some(email) = &entity.email
                && (!email.contains('@') || email.contains(char::is_whitespace))
            {
                fault(&format!("{field}.email"), "not an email address");
            }
        }
        if self.creative.text.trim().is_empty() && self.creative.media.is_empty() {
            fault(
                "creative",
                "the ad's text or at least one media file is required",
            );
        }
        if !(self.creative.language.len() == 2
            && self
                .creative
                .language
                .bytes()
                .all(|b| b.is_ascii_lowercase()))
        {
            fault("creative.language", "an ISO 639-1 code such as de");
        }
        for (i, media) in self.creative.media.iter().enumerate() {
            if !(media.sha256.len() == 64
                && media
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
            {
                fault(
                    &format!("creative.media[{i}].sha256"),
                    "64 lowercase hexadecimal digits",
                );
            }
        }
        if self.countries.is_empty() {
            fault(
                "countries",
                "at least one country where the ad is disseminated",
            );
        }
        for (i, country) in self.countries.iter().enumerate() {
            if !is_country(country) {
                fault(
                    &format!("countries[{i}]"),
                    "an ISO 3166-1 alpha-2 code such as DE",
                );
            }
        }
        let (start_ok, end_ok) = (is_date(&self.period_start), is_date(&self.period_end));
        if !start_ok {
            fault("period_start", "a date YYYY-MM-DD");
        }
        if !end_ok {
            fault("period_end", "a date YYYY-MM-DD");
        }
        if start_ok && end_ok && self.period_end < self.period_start {
            fault("period_end", "the period ends before it starts");
        }
        if let Some(at) = &self.first_published_at
            && crate::core::time::Timestamp::parse(at).is_none()
        {
            fault("first_published_at", "an RFC 3339 time");
        }
        if self.election.is_none() && self.legislative_process.is_none() {
            // Art. 12(1)(g) applies "where applicable": an issue ad may have neither.
        }
        if let Some(spend) = &mut self.spend {
            let currency = spend.currency.clone();
            match parse_minor(&spend.amount, &currency) {
                Ok(minor) => spend.amount = format_minor(minor, &currency),
                Err(e) => errors.push(amount_error("spend.amount", e)),
            }
            for (field, value) in [
                ("spend.campaign_amount", &mut spend.campaign_amount),
                ("spend.other_benefits", &mut spend.other_benefits),
            ] {
                if let Some(text) = value {
                    match parse_minor(text, &currency) {
                        Ok(minor) => *text = format_minor(minor, &currency),
                        Err(e) => errors.push(amount_error(field, e)),
                    }
                }
            }
            if spend.method.trim().is_empty() {
                errors.push(FieldError::new(
                    "spend.method",
                    "say how the amounts were calculated (Art. 12(1)(f))",
                ));
            }
        }
        if let Some(range) = &self.spend_range
            && (range.lower_minor < 0 || range.upper_minor.is_some_and(|u| u < range.lower_minor))
        {
            errors.push(FieldError::new(
                "spend_range",
                "the upper bound is below the lower bound",
            ));
        }
        if let Some(range) = &self.impressions
            && range.upper.is_some_and(|u| u < range.lower)
        {
            errors.push(FieldError::new(
                "impressions",
                "the upper bound is below the lower bound",
            ));
        }
        for (name, shares) in [
            ("by_age", &self.delivery.by_age),
            ("by_gender", &self.delivery.by_gender),
            ("by_region", &self.delivery.by_region),
        ] {
            for (i, share) in shares.iter().enumerate() {
                if !is_share(&share.share) {
                    errors.push(FieldError::new(
                        &format!("delivery.{name}[{i}].share"),
                        "a decimal between 0 and 1 such as \"0.125\"",
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The spend as exact money, when filed.
    pub fn spend_money(&self) -> Option<Money> {
        let spend = self.spend.as_ref()?;
        Some(Money {
            minor: parse_minor(&spend.amount, &spend.currency).ok()?,
            currency: spend.currency.clone(),
        })
    }

    /// The spend as a range in minor units: an exact amount is its own
    /// lower and upper bound.
    pub fn spend_bounds(&self) -> Option<MoneyRange> {
        if let Some(money) = self.spend_money() {
            return Some(MoneyRange {
                currency: money.currency,
                lower_minor: money.minor,
                upper_minor: Some(money.minor),
            });
        }
        self.spend_range.clone()
    }

    /// The words a full-text search looks in: the creative and every name.
    pub fn search_text(&self) -> String {
        let mut words = vec![
            self.title.as_str(),
            self.creative.text.as_str(),
            self.sponsor.name.as_str(),
            self.publisher.name.as_str(),
        ];
        for entity in [&self.controller, &self.payer, &self.beneficiary]
            .into_iter()
            .flatten()
        {
            words.push(entity.name.as_str());
        }
        words.extend(self.service_providers.iter().map(|e| e.name.as_str()));
        words.join("\n").to_lowercase()
    }
}

#[cfg(test)]
pub mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub fn sample() -> serde_json::Value {
        serde_json::json!({
            "title": "Vote for clean rivers",
            "sponsor": {"name": "Green Future Party", "registry_id": "EE-80012345", "country": "EE", "email": "office@greenfuture.example"},
            "payer": {"name": "Green Future Party Foundation", "country": "EE"},
            "publisher": {"name": "Tallinn Daily Online", "country": "EE"},
            "sponsor_declaration": "eu_legal_person_not_foreign_controlled",
            "election": "ee-ep-2029",
            "creative": {"text": "Clean rivers, clean future. Vote on 7 June.", "language": "et",
                         "media": [{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "media_type": "image/png"}]},
            "countries": ["EE"],
            "period_start": "2029-05-01", "period_end": "2029-06-06",
            "spend": {"currency": "EUR", "amount": "1200", "origin": "private", "source": "eu", "method": "invoiced amount, VAT included"},
            "targeting": {"used": true, "criteria_included": ["Tallinn", "age 18+"], "personal_data_categories": ["location", "age"],
                          "minimum_age": 18, "consent_basis": "explicit_consent"},
            "delivery": {"by_age": [{"key": "18-24", "share": "0.25"}, {"key": "25-64", "share": "0.75"}]}
        })
    }

    #[test]
    fn a_complete_filing_reads_and_its_amounts_become_canonical() {
        let mut ad: AdContent = serde_json::from_value(sample()).unwrap();
        ad.check().unwrap();
        assert_eq!(ad.spend.as_ref().unwrap().amount, "1200.00");
        assert_eq!(ad.spend_money().unwrap().minor, 120_000);
        assert!(ad.search_text().contains("green future party foundation"));
    }

    #[test]
    fn every_fault_is_named() {
        let mut bad = sample();
        bad["title"] = "".into();
        bad["sponsor"]["country"] = "Estonia".into();
        bad["creative"]["language"] = "Estonian".into();
        bad["countries"] = serde_json::json!(["ee"]);
        bad["period_end"] = "2029-04-01".into();
        bad["spend"]["amount"] = "1.234,00".into();
        bad["spend"]["method"] = " ".into();
        bad["delivery"]["by_age"][0]["share"] = "1.5".into();
        let mut ad: AdContent = serde_json::from_value(bad).unwrap();
        let errors = ad.check().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "sponsor.country",
                "creative.language",
                "countries[0]",
                "period_end",
                "spend.amount",
                "spend.method",
                "delivery.by_age[0].share"
            ]
        );
    }

    #[test]
    fn amounts_are_never_floats() {
        let mut float = sample();
        float["spend"]["amount"] = serde_json::json!(1200.5);
        assert!(
            serde_json::from_value::<AdContent>(float).is_err(),
            "a JSON number is refused"
        );
        let mut unknown = sample();
        unknown["sponser"] = serde_json::json!({"name": "typo"});
        assert!(
            serde_json::from_value::<AdContent>(unknown).is_err(),
            "unknown fields are refused"
        );
    }
}
