//! The demo's political ads: the calendar (the fictional municipal election
//! of the results demo and the European Parliament election), spending
//! limits, and ads of the same lists filed by a local newspaper through the
//! same use cases as the API, a few with findings: a sponsor without
//! contact details, no Art. 5(2) declaration, targeting below the voting
//! age, spending past a limit; one corrected, one withdrawn, one removed;
//! an earlier ad of one list for the European Parliament election (its
//! sponsor page spans two months); and citizens' notices, one open and one
//! decided, in the publisher's and the regulator's queue.
use crate::ads::domain::{AdContent, CalendarEntry};
use crate::ads::service;
use crate::ads::store::SpendingLimit;
use crate::core::db::Db;
use crate::core::error::ApiError;
use serde_json::{Value, json};

fn ad(n: usize, sponsor: &str, text: &str, amount: &str, period: (&str, &str)) -> Value {
    json!({
        "title": format!("{sponsor}: {}", text.split('.').next().unwrap_or(text)),
        "sponsor": {"name": sponsor, "country": "PT", "registry_id": format!("TC-{:04}", 100 + n),
                    "email": format!("campanha{n}@partido.example")},
        "publisher": {"name": "Jornal da Vila", "country": "PT", "email": "publicidade@jornaldavila.example"},
        "sponsor_declaration": "eu_legal_person_not_foreign_controlled",
        "election": super::results::ELECTION,
        "creative": {"text": text, "language": "pt"},
        "countries": ["PT"],
        "regions": ["Vila Demo"],
        "period_start": period.0, "period_end": period.1,
        "first_published_at": format!("{}T08:00:00Z", period.0),
        "spend": {"currency": "EUR", "amount": amount, "origin": "private", "source": "eu",
                  "method": "invoiced by the publisher, VAT included"},
        "targeting": {"used": true, "criteria_included": ["Vila Demo", "age 18+"],
                      "personal_data_categories": ["location", "age"], "minimum_age": 18,
                      "consent_basis": "explicit_consent", "people_reached": 4000 + n as u64 * 350},
        "delivery": {"by_age": [{"key": "18-34", "share": "0.3"}, {"key": "35-64", "share": "0.5"}, {"key": "65+", "share": "0.2"}],
                     "by_region": [{"key": "Santa Clara", "share": "0.45"}, {"key": "São Bento", "share": "0.35"}, {"key": "Ribeira", "share": "0.2"}]}
    })
}

pub async fn seed(db: &Db) -> Result<(), ApiError> {
    let regulator = crate::accounts::service::principal_of(db, "pt.regulator").await?;
    let filer = crate::accounts::service::principal_of(db, "jornal.filer").await?;
    for entry in [
        json!({"id": super::results::ELECTION, "name": "Municipal Assembly of Vila Demo 2029 (fictional)",
               "kind": "election", "date": "2029-10-14", "country": "PT", "region": "Vila Demo", "voting_age": 18}),
        json!({"id": "pt-ep-2029", "name": "European Parliament 2029 (Portugal)", "kind": "election",
               "date": "2029-06-10", "country": "PT", "voting_age": 18}),
    ] {
        let entry: CalendarEntry =
            serde_json::from_value(entry).map_err(|e| ApiError::Internal(e.into()))?;
        service::save_calendar_entry(db, &regulator, entry).await?;
    }
    for (sponsor, amount) in [("Partido Azul", "5000"), ("Aliança Verde", "2500")] {
        service::save_limit(
            db,
            &regulator,
            SpendingLimit {
                election: super::results::ELECTION.into(),
                sponsor: sponsor.into(),
                currency: crate::ads::domain::Currency::parse("EUR")
                    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("EUR")))?,
                amount: amount.into(),
                legal_basis: "municipal campaign spending limit (fictional)".into(),
            },
        )
        .await?;
    }
    let filings = [
        (
            "Partido Azul",
            "Mais creches, menos filas. Vote Partido Azul a 14 de outubro.",
            "1800",
            ("2029-09-01", "2029-10-12"),
        ),
        (
            "Partido Azul",
            "Transportes para todas as freguesias.",
            "950.50",
            ("2029-09-15", "2029-10-12"),
        ),
        (
            "Aliança Verde",
            "Um rio limpo para a Ribeira. Vote Aliança Verde.",
            "1600",
            ("2029-09-01", "2029-10-12"),
        ),
        (
            "Aliança Verde",
            "Hortas comunitárias em cada bairro.",
            "1250",
            ("2029-09-20", "2029-10-12"),
        ),
        (
            "Movimento Cidadão",
            "A vila é de quem cá vive.",
            "700",
            ("2029-09-10", "2029-10-12"),
        ),
        (
            "Partido Laranja",
            "Impostos municipais mais baixos.",
            "420",
            ("2029-09-25", "2029-10-12"),
        ),
        (
            "Lista Independente",
            "Independentes pela Vila.",
            "300",
            ("2029-10-01", "2029-10-12"),
        ),
        (
            "Partido do Mar",
            "O porto primeiro.",
            "150",
            ("2029-10-05", "2029-10-12"),
        ),
    ];
    let mut ids = Vec::new();
    for (n, (sponsor, text, amount, period)) in filings.iter().enumerate() {
        let mut value = ad(n, sponsor, text, amount, *period);
        match n {
            // Aliança Verde's second ad reaches 16-year-olds (T.302); with
            // its first it also passes its limit (M.601).
            3 => value["targeting"]["minimum_age"] = 16.into(),
            // No contact details for this sponsor (N.101).
            5 => value["sponsor"] = json!({"name": sponsor, "country": "PT"}),
            // No Art. 5(2) declaration within three months of the vote (S.201).
            6 => value["sponsor_declaration"] = Value::Null,
            _ => {}
        }
        let content: AdContent =
            serde_json::from_value(value).map_err(|e| ApiError::Internal(e.into()))?;
        ids.push(service::file(db, &filer, content).await?.id);
    }
    // A correction (a new version of the same id), a withdrawal and a removal.
    let mut corrected: AdContent = serde_json::from_value(ad(
        1,
        "Partido Azul",
        "Transportes para todas as freguesias, todos os dias.",
        "1100",
        ("2029-09-15", "2029-10-12"),
    ))
    .map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(spend) = corrected.spend.as_mut() {
        spend.campaign_amount = Some("2900".into());
    }
    service::correct(db, &filer, ids[1].as_str(), corrected).await?;
    service::withdraw(
        db,
        &filer,
        ids[7].as_str(),
        "The list withdrew its candidacy.".into(),
    )
    .await?;
    service::remove(
        db,
        &regulator,
        ids[6].as_str(),
        "No declaration under Art. 5(2) of Regulation (EU) 2024/900 within three months of the election.".into(),
    )
    .await?;
    let mut european = ad(
        8,
        "Aliança Verde",
        "Rios limpos em toda a Europa. Vote a 10 de junho.",
        "900",
        ("2029-05-10", "2029-06-08"),
    );
    european["election"] = json!("pt-ep-2029");
    let european: AdContent =
        serde_json::from_value(european).map_err(|e| ApiError::Internal(e.into()))?;
    service::file(db, &filer, european).await?;

    // Citizens' notices (no source address: the demo has no rate limit to keep).
    use crate::ads::domain::notice::{NoticeInput, NoticeStep};
    use crate::ads::notices;
    let key = [0u8; 32];
    notices::submit(
        db,
        &key,
        ids[5].as_str(),
        NoticeInput {
            explanation: "The ad names no way to contact the sponsor, as the notice must.".into(),
            name: "Ana Pereira".into(),
            email: "ana.pereira@example.org".into(),
            evidence_url: None,
        },
        None,
    )
    .await?;
    let decided = notices::submit(
        db,
        &key,
        ids[3].as_str(),
        NoticeInput {
            explanation: "My 16-year-old daughter was shown this ad; she cannot vote.".into(),
            name: "Rui Costa".into(),
            email: "rui.costa@example.org".into(),
            evidence_url: Some("https://archive.example.org/vila/ad-3".into()),
        },
        None,
    )
    .await?;
    notices::decide(
        db,
        &regulator,
        &decided.tracking,
        NoticeStep::StartReview,
        "",
    )
    .await?;
    notices::decide(
        db,
        &regulator,
        &decided.tracking,
        NoticeStep::Uphold,
        "Targeting from age 16 breaches Art. 18(2) of Regulation (EU) 2024/900; the publisher was told to stop it.",
    )
    .await?;
    Ok(())
}
