//! Search across everything the user may see, and the dashboard.
use super::alerts::{Card, awaiting};
use super::chart::{WeekBar, weekly_bars};
use super::*;
use crate::alerts::domain::AlertLevel;
use crate::alerts::service::{self, SearchHit};
use axum::extract::Query;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    hits: Vec<SearchHit>,
    searched: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
}

const SEARCH_LIMIT: usize = 200;

pub async fn search(
    State(state): State<AppState>,
    analyst: Analyst,
    Query(query): Query<SearchQuery>,
) -> PageResult {
    let q = query.q.trim().to_string();
    let hits = if q.is_empty() {
        Vec::new()
    } else {
        service::search(&state.db, &analyst.principal, &q, SEARCH_LIMIT).await?
    };
    Ok(render(&SearchPage {
        chrome: Chrome::for_user("Search", &analyst, "search", None),
        searched: !q.is_empty(),
        q,
        hits,
    }))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    chart: String,
    weeks: Vec<WeekBar>,
    techniques: Vec<(String, String, u64)>,
    countries: Vec<(String, u64)>,
    most_technique: u64,
    most_country: u64,
    awaiting: Vec<Card>,
    totals: (usize, usize),
}

/// Weeks shown on the chart.
const WEEKS: i64 = 12;

/// The Monday of the week of a STIX timestamp's date.
fn week_of(stix: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(stix.get(..10)?, &format).ok()?;
    Some(date - time::Duration::days(i64::from(date.weekday().number_days_from_monday())))
}

pub async fn dashboard(State(state): State<AppState>, analyst: Analyst) -> PageResult {
    let readable = service::readable_collections(&state.db, &analyst.principal).await?;
    let reports = service::reports(&state.db, &readable).await?;
    let mine = analyst.principal.organisation.stix_identity.clone();
    let this_week =
        week_of(&crate::core::time::Timestamp::now().to_string()).unwrap_or(time::Date::MIN);
    let first_week = this_week - time::Duration::weeks(WEEKS - 1);
    let mut per_week: BTreeMap<time::Date, (u64, u64)> = (0..WEEKS)
        .map(|i| (first_week + time::Duration::weeks(i), (0, 0)))
        .collect();
    let mut techniques: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut countries: BTreeMap<String, u64> = BTreeMap::new();
    let (mut information, mut alerts) = (0, 0);
    for report in reports.iter().filter(|r| !r.revoked) {
        let is_information = report.level == AlertLevel::Information;
        if is_information {
            information += 1;
        } else {
            alerts += 1;
        }
        if let Some(week) = week_of(&report.published)
            && let Some(counts) = per_week.get_mut(&week)
        {
            if is_information {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
        for technique in &report.techniques {
            techniques
                .entry(technique.id.clone())
                .or_insert_with(|| (technique.name.clone(), 0))
                .1 += 1;
        }
        for country in &report.countries {
            *countries.entry(country.clone()).or_default() += 1;
        }
    }
    let weeks: Vec<WeekBar> = per_week
        .into_iter()
        .map(|(week, (information, alerts))| WeekBar {
            label: format!("{:02}-{:02}", u8::from(week.month()), week.day()),
            information,
            alerts,
        })
        .collect();
    let mut techniques: Vec<(String, String, u64)> = techniques
        .into_iter()
        .map(|(id, (name, n))| (id, name, n))
        .collect();
    techniques.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    techniques.truncate(10);
    let mut countries: Vec<(String, u64)> = countries.into_iter().collect();
    countries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    countries.truncate(15);
    let awaiting_me: Vec<Card> = reports
        .iter()
        .filter(|r| awaiting(r, &mine))
        .map(|r| Card::of(r, &mine))
        .collect();
    Ok(render(&DashboardPage {
        chrome: Chrome::for_user("Dashboard", &analyst, "dashboard", None),
        chart: weekly_bars(
            "Alerts and information items per week (weeks starting on Monday)",
            &weeks,
        ),
        weeks,
        most_technique: techniques.first().map_or(1, |t| t.2),
        most_country: countries.first().map_or(1, |c| c.1),
        techniques,
        countries,
        awaiting: awaiting_me,
        totals: (alerts, information),
    }))
}
