//! Compliance checks of Regulation (EU) 2024/900, each a rule with a stable
//! code, its legal reference and the evidence it rests on. They are pure
//! functions of the ad, the calendar and the configured limits, computed
//! whenever a finding is asked for, so they always reflect the data as it is.
//!
//! | code | rule |
//! |---|---|
//! | N.101 | the sponsor's contact details are missing (Art. 12(1)(a)) |
//! | N.102 | no amounts are given (Art. 12(1)(d)–(f)) |
//! | N.103 | amounts only as a platform range, not the aggregated amounts (Art. 12(1)(d)) |
//! | N.104 | targeting used but its criteria or data categories are not given (Art. 19(1)) |
//! | N.105 | the campaign's amount is below the ad's own (Art. 12(1)(d), inconsistent) |
//! | S.201 | no sponsor declaration while the ad runs within three months before its election (Art. 5(2), 7(1)) |
//! | S.202 | the declaration says EU-established but the sponsor or its controller is established outside the Union (Art. 5(2)(c)) |
//! | T.301 | targeting uses special categories of personal data (Art. 18(1)(c)) |
//! | T.302 | targeting reaches people at least a year below the voting age (Art. 18(2)) |
//! | T.303 | targeting on personal data without explicit consent (Art. 18(1)(b)) |
//! | P.401 | first published outside the declared period (Art. 12(1)(c)) |
//! | L.501 | filed more than 72 hours after first publication |
//! | M.601 | spending of a sponsor in an election above its configured limit (definite when the sum of lower bounds exceeds it, possible when the sum of upper bounds does) |
use super::ad::{AdContent, SponsorDeclaration};
use super::money::format_minor;
use super::{CalendarEntry, Currency};
use crate::core::time::Timestamp;
use serde::Serialize;
use std::time::Duration;

/// The EU and EEA-less Union: the 27 Member States (ISO 3166-1 alpha-2,
/// with Greece as `GR`).
pub const UNION: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// How late a filing may be after first publication.
pub const FILING_DEADLINE: Duration = Duration::from_secs(72 * 3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The data shows the breach.
    Definite,
    /// The data allows it (a range that may exceed a limit, an inconsistency).
    Possible,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub code: &'static str,
    pub title: &'static str,
    pub legal_reference: &'static str,
    pub severity: Severity,
    /// What the finding rests on, in words with the figures (regulators;
    /// the public reads the finding without it).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub evidence: String,
}

fn finding(code: &'static str, severity: Severity, evidence: String) -> Finding {
    let (title, legal_reference) = match code {
        "N.101" => (
            "sponsor's contact details missing",
            "Regulation (EU) 2024/900, Art. 12(1)(a)",
        ),
        "N.102" => (
            "amounts missing",
            "Regulation (EU) 2024/900, Art. 12(1)(d)–(f)",
        ),
        "N.103" => (
            "amounts only as a range",
            "Regulation (EU) 2024/900, Art. 12(1)(d)",
        ),
        "N.104" => (
            "targeting not described",
            "Regulation (EU) 2024/900, Art. 19(1)",
        ),
        "N.105" => (
            "inconsistent amounts",
            "Regulation (EU) 2024/900, Art. 12(1)(d)",
        ),
        "S.201" => (
            "no sponsor declaration before an election",
            "Regulation (EU) 2024/900, Art. 5(2) and 7(1)",
        ),
        "S.202" => (
            "declaration inconsistent with establishment",
            "Regulation (EU) 2024/900, Art. 5(2)(c)",
        ),
        "T.301" => (
            "targeting on special categories of personal data",
            "Regulation (EU) 2024/900, Art. 18(1)(c)",
        ),
        "T.302" => (
            "targeting below the voting age",
            "Regulation (EU) 2024/900, Art. 18(2)",
        ),
        "T.303" => (
            "targeting without explicit consent",
            "Regulation (EU) 2024/900, Art. 18(1)(b)",
        ),
        "P.401" => (
            "published outside the declared period",
            "Regulation (EU) 2024/900, Art. 12(1)(c)",
        ),
        "L.501" => (
            "late filing",
            "Regulation (EU) 2024/900, Art. 13 (72 hours, as for the European repository)",
        ),
        "M.601" => (
            "spending limit",
            "the limit configured for the election (national law)",
        ),
        _ => ("unknown rule", ""),
    };
    Finding {
        code,
        title,
        legal_reference,
        severity,
        evidence,
    }
}

fn in_union(country: &Option<String>) -> Option<bool> {
    country.as_deref().map(|c| UNION.contains(&c))
}

/// The date three months before `date` (`YYYY-MM-DD`), the day kept or
/// clamped to the month's end.
pub fn three_months_before(date: &str) -> Option<String> {
    let year: i32 = date.get(0..4)?.parse().ok()?;
    let month: u32 = date.get(5..7)?.parse().ok()?;
    let day: u32 = date.get(8..10)?.parse().ok()?;
    let (year, month) = if month > 3 {
        (year, month - 3)
    } else {
        (year - 1, month + 9)
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let last = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    Some(format!("{year:04}-{month:02}-{:02}", day.min(last)))
}

/// Every finding of one ad. `election` is the calendar entry the ad is
/// linked to, if any; `filed_at` when it was first filed.
pub fn check_ad(ad: &AdContent, election: Option<&CalendarEntry>, filed_at: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let sponsor = &ad.sponsor;
    if sponsor.email.is_none() && sponsor.address.is_none() {
        findings.push(finding(
            "N.101",
            Severity::Definite,
            format!(
                "sponsor {:?} has neither an email nor a postal address",
                sponsor.name
            ),
        ));
    }
    match (&ad.spend, &ad.spend_range) {
        (None, None) => findings.push(finding(
            "N.102",
            Severity::Definite,
            "neither amounts nor a spend range are given".into(),
        )),
        (None, Some(range)) => findings.push(finding(
            "N.103",
            Severity::Possible,
            format!(
                "spend only as the range {}–{} {}",
                format_minor(range.lower_minor, &range.currency),
                range.upper_minor.map_or_else(
                    || "(no upper bound)".into(),
                    |u| format_minor(u, &range.currency)
                ),
                range.currency
            ),
        )),
        (Some(spend), _) => {
            if let (Some(money), Some(campaign)) = (ad.spend_money(), &spend.campaign_amount)
                && let Ok(campaign_minor) = super::money::parse_minor(campaign, &spend.currency)
                && campaign_minor < money.minor
            {
                findings.push(finding(
                    "N.105",
                    Severity::Definite,
                    format!(
                        "the campaign's amount {campaign} {} is below the ad's {} {}",
                        spend.currency, spend.amount, spend.currency
                    ),
                ));
            }
        }
    }
    let targeting = &ad.targeting;
    if targeting.used
        && targeting.criteria_included.is_empty()
        && targeting.personal_data_categories.is_empty()
    {
        findings.push(finding(
            "N.104",
            Severity::Definite,
            "targeting is declared as used, without criteria or data categories".into(),
        ));
    }
    if !targeting.special_categories.is_empty() {
        findings.push(finding(
            "T.301",
            Severity::Definite,
            format!(
                "special categories used: {}",
                targeting.special_categories.join(", ")
            ),
        ));
    }
    let voting_age = election.map_or(18, |e| e.voting_age);
    if let Some(minimum) = targeting.minimum_age
        && minimum < voting_age
    {
        findings.push(finding(
            "T.302",
            Severity::Definite,
            format!("the youngest age targeted is {minimum}; people of {} and younger are a year or more below the voting age of {voting_age}", voting_age - 1),
        ));
    }
    if targeting.used
        && !targeting.personal_data_categories.is_empty()
        && targeting.consent_basis.as_deref() != Some("explicit_consent")
    {
        findings.push(finding(
            "T.303",
            Severity::Definite,
            format!(
                "personal data used ({}) with the basis {:?}",
                targeting.personal_data_categories.join(", "),
                targeting.consent_basis.as_deref().unwrap_or("none given")
            ),
        ));
    }
    if let Some(election) = election
        && let Some(window_start) = three_months_before(&election.date)
        && ad.period_start.as_str() <= election.date.as_str()
        && ad.period_end >= window_start
        && ad.sponsor_declaration.is_none()
    {
        findings.push(finding(
            "S.201",
            Severity::Definite,
            format!(
                "the ad runs {} to {}, within the three months before {} ({} to {}), and the sponsor made no declaration",
                ad.period_start, ad.period_end, election.name, window_start, election.date
            ),
        ));
    }
    if ad.sponsor_declaration == Some(SponsorDeclaration::EuLegalPersonNotForeignControlled) {
        for (role, entity) in [
            ("sponsor", Some(&ad.sponsor)),
            ("controller", ad.controller.as_ref()),
        ] {
            if let Some(entity) = entity
                && in_union(&entity.country) == Some(false)
            {
                findings.push(finding(
                    "S.202",
                    Severity::Possible,
                    format!(
                        "declared EU-established and not foreign-controlled, but the {role} {:?} is established in {}",
                        entity.name,
                        entity.country.as_deref().unwrap_or("")
                    ),
                ));
            }
        }
    }
    if let Some(published) = ad.first_published_at.as_deref().and_then(Timestamp::parse) {
        let day: String = published.to_string().chars().take(10).collect();
        if day < ad.period_start || day > ad.period_end {
            findings.push(finding(
                "P.401",
                Severity::Definite,
                format!(
                    "first published on {day}, outside the declared period {} to {}",
                    ad.period_start, ad.period_end
                ),
            ));
        }
        if let Some(filed) = Timestamp::parse(filed_at)
            && filed.unix_seconds() - published.unix_seconds() > FILING_DEADLINE.as_secs() as i64
        {
            let hours = (filed.unix_seconds() - published.unix_seconds()) / 3600;
            findings.push(finding(
                "L.501",
                Severity::Definite,
                format!("filed {hours} hours after first publication"),
            ));
        }
    }
    findings
}

/// Findings counted per rule, by severity, in code order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RuleCount {
    pub code: &'static str,
    pub title: &'static str,
    pub legal_reference: &'static str,
    pub definite: u64,
    pub possible: u64,
}

pub fn rule_counts<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<RuleCount> {
    let mut counts: Vec<RuleCount> = Vec::new();
    for finding in findings {
        let index = match counts.iter().position(|r| r.code == finding.code) {
            Some(i) => i,
            None => {
                counts.push(RuleCount {
                    code: finding.code,
                    title: finding.title,
                    legal_reference: finding.legal_reference,
                    definite: 0,
                    possible: 0,
                });
                counts.len() - 1
            }
        };
        match finding.severity {
            Severity::Definite => counts[index].definite += 1,
            Severity::Possible => counts[index].possible += 1,
        }
    }
    counts.sort_by_key(|r| r.code);
    counts
}

/// The spending of one sponsor in one election, in one currency: the sums
/// of the lower bounds and of the upper bounds (`None` when some ad has no
/// upper bound), over its ads that are not withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SponsorSpend {
    pub sponsor: String,
    #[schema(value_type = String)]
    pub currency: Currency,
    pub ads: u64,
    pub lower: String,
    pub upper: Option<String>,
    #[serde(skip)]
    pub lower_minor: i64,
    #[serde(skip)]
    pub upper_minor: Option<i64>,
}

/// The spending-limit finding, if the sums reach past the limit.
pub fn check_spend(
    spend: &SponsorSpend,
    limit_minor: i64,
    limit_currency: &Currency,
) -> Option<Finding> {
    if &spend.currency != limit_currency {
        return None;
    }
    let limit = format_minor(limit_minor, limit_currency);
    if spend.lower_minor > limit_minor {
        return Some(finding(
            "M.601",
            Severity::Definite,
            format!(
                "{} spent at least {} {} on {} ads; the limit is {limit}",
                spend.sponsor, spend.lower, spend.currency, spend.ads
            ),
        ));
    }
    match spend.upper_minor {
        Some(upper) if upper <= limit_minor => None,
        upper => Some(finding(
            "M.601",
            Severity::Possible,
            format!(
                "{} spent between {} and {} {} on {} ads; the limit is {limit}",
                spend.sponsor,
                spend.lower,
                upper.map_or_else(
                    || "an unknown amount".into(),
                    |u| format_minor(u, &spend.currency)
                ),
                spend.currency,
                spend.ads
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ads::domain::ad::tests::sample;

    fn election() -> CalendarEntry {
        CalendarEntry {
            id: "ee-ep-2029".into(),
            name: "EP 2029".into(),
            kind: "election".into(),
            date: "2029-06-07".into(),
            country: "EE".into(),
            region: None,
            voting_age: 16,
        }
    }

    fn codes(ad: &AdContent, filed_at: &str) -> Vec<&'static str> {
        check_ad(ad, Some(&election()), filed_at)
            .iter()
            .map(|f| f.code)
            .collect()
    }

    fn ad() -> AdContent {
        let mut ad: AdContent = serde_json::from_value(sample()).unwrap();
        ad.check().unwrap();
        ad.targeting.minimum_age = Some(16);
        ad.first_published_at = Some("2029-05-01T08:00:00Z".into());
        ad
    }

    const FILED: &str = "2029-05-01T09:00:00Z";

    #[test]
    fn a_complete_ad_has_no_findings() {
        assert_eq!(codes(&ad(), FILED), Vec::<&str>::new());
    }

    #[test]
    fn each_rule_on_both_sides_of_its_boundary() {
        // N.101: contact details.
        let mut a = ad();
        a.sponsor.email = None;
        assert_eq!(codes(&a, FILED), ["N.101"]);
        a.sponsor.address = Some("Pikk 1, Tallinn".into());
        assert!(codes(&a, FILED).is_empty());
        // N.102 / N.103: amounts.
        let mut a = ad();
        a.spend = None;
        assert_eq!(codes(&a, FILED), ["N.102"]);
        a.spend_range = Some(crate::ads::domain::MoneyRange {
            currency: Currency::parse("EUR").unwrap(),
            lower_minor: 0,
            upper_minor: Some(9_900),
        });
        assert_eq!(codes(&a, FILED), ["N.103"]);
        // N.105: the campaign's amount equal to the ad's is fine, below is not.
        let mut a = ad();
        a.spend.as_mut().unwrap().campaign_amount = Some("1200.00".into());
        assert!(codes(&a, FILED).is_empty());
        a.spend.as_mut().unwrap().campaign_amount = Some("1199.99".into());
        assert_eq!(codes(&a, FILED), ["N.105"]);
        // N.104: targeting described or not.
        let mut a = ad();
        a.targeting.criteria_included.clear();
        assert!(codes(&a, FILED).is_empty(), "data categories describe it");
        a.targeting.personal_data_categories.clear();
        assert_eq!(codes(&a, FILED), ["N.104"]);
        // T.301: special categories.
        let mut a = ad();
        a.targeting.special_categories = vec!["political_opinions".into()];
        assert_eq!(codes(&a, FILED), ["T.301"]);
        // T.302: voting age 16 — 16 is fine, 15 is a year below.
        let mut a = ad();
        a.targeting.minimum_age = Some(15);
        assert_eq!(codes(&a, FILED), ["T.302"]);
        // T.303: explicit consent.
        let mut a = ad();
        a.targeting.consent_basis = Some("legitimate_interest".into());
        assert_eq!(codes(&a, FILED), ["T.303"]);
        // S.201: the window starts 2029-03-07. Ending the day before it is fine.
        let mut a = ad();
        a.sponsor_declaration = None;
        assert_eq!(codes(&a, FILED), ["S.201"]);
        a.period_start = "2029-01-01".into();
        a.period_end = "2029-03-06".into();
        a.first_published_at = Some("2029-01-01T08:00:00Z".into());
        assert!(codes(&a, "2029-01-01T09:00:00Z").is_empty());
        a.period_end = "2029-03-07".into();
        assert_eq!(codes(&a, "2029-01-01T09:00:00Z"), ["S.201"]);
        // S.202: established outside the Union.
        let mut a = ad();
        a.sponsor.country = Some("NO".into());
        assert_eq!(codes(&a, FILED), ["S.202"]);
        // P.401: published the day before the period.
        let mut a = ad();
        a.first_published_at = Some("2029-04-30T23:59:59Z".into());
        assert_eq!(codes(&a, FILED), ["P.401"]);
        // L.501: exactly 72 hours is on time, a second more is late.
        let a = ad();
        assert!(codes(&a, "2029-05-04T08:00:00Z").is_empty());
        assert_eq!(codes(&a, "2029-05-04T08:00:01Z"), ["L.501"]);
    }

    #[test]
    fn three_months_before_clamps_to_the_month() {
        assert_eq!(three_months_before("2029-06-07").unwrap(), "2029-03-07");
        assert_eq!(three_months_before("2029-02-15").unwrap(), "2028-11-15");
        assert_eq!(three_months_before("2029-05-31").unwrap(), "2029-02-28");
        assert_eq!(three_months_before("2028-05-31").unwrap(), "2028-02-29");
    }

    fn spend(lower: i64, upper: Option<i64>) -> SponsorSpend {
        let eur = Currency::parse("EUR").unwrap();
        SponsorSpend {
            sponsor: "Party".into(),
            lower: format_minor(lower, &eur),
            upper: upper.map(|u| format_minor(u, &eur)),
            currency: eur,
            ads: 3,
            lower_minor: lower,
            upper_minor: upper,
        }
    }

    #[test]
    fn spending_limits_use_range_arithmetic() {
        let eur = Currency::parse("EUR").unwrap();
        let limit = 1_000_000; // 10,000.00
        assert_eq!(
            check_spend(&spend(900_000, Some(1_000_000)), limit, &eur),
            None,
            "at the limit"
        );
        let possible = check_spend(&spend(900_000, Some(1_000_001)), limit, &eur).unwrap();
        assert_eq!(possible.severity, Severity::Possible);
        let unbounded = check_spend(&spend(900_000, None), limit, &eur).unwrap();
        assert_eq!(unbounded.severity, Severity::Possible);
        assert!(unbounded.evidence.contains("an unknown amount"));
        assert_eq!(
            check_spend(&spend(1_000_000, None), limit, &eur)
                .unwrap()
                .severity,
            Severity::Possible,
            "lower equal to the limit is no definite breach"
        );
        let definite = check_spend(&spend(1_000_001, Some(2_000_000)), limit, &eur).unwrap();
        assert_eq!(definite.severity, Severity::Definite);
        assert_eq!(
            check_spend(
                &spend(5_000_000, None),
                limit,
                &Currency::parse("SEK").unwrap()
            ),
            None,
            "other currencies are not compared"
        );
    }
}
