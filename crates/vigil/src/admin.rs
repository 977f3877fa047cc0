//! `vigil admin`: the same use cases as the admin API, run against the store
//! directly. Every change is audited with the actor `cli`.
use crate::StoreArgs;
use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::BufRead;
use vigil_server::accounts::domain::ROLE_CATALOGUE;
use vigil_server::accounts::service::{
    self, NewOrganisation, NewUser, OrganisationChanges, UserChanges,
};
use vigil_server::accounts::store;
use vigil_server::alerts::service::{self as alerts, NewCollection};
use vigil_server::alerts::store as alerts_store;
use vigil_server::core::audit::{self, Actor};
use vigil_server::core::config::ConfigLayer;
use vigil_server::core::db::Db;
use vigil_server::core::error::ApiError;
use vigil_server::core::ids::UserId;
use vigil_server::core::server::open_store;
use vigil_server::core::time::parse_duration;

#[derive(Args)]
pub struct AdminArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Organisations (national contact points, EMBs, fact-checkers …)
    #[command(subcommand)]
    Org(OrgCommand),
    /// User accounts and their roles
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for machine clients (shown once, stored hashed)
    #[command(subcommand)]
    Token(TokenCommand),
    /// Show the newest audit events
    Audit {
        /// How many events
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Only this action, e.g. auth.login_failed
        #[arg(long)]
        action: Option<String>,
    },
    /// List the roles users can hold
    Roles,
    /// Trust communities of the Rapid Alert System (each a TAXII API root)
    #[command(subcommand)]
    Community(CommunityCommand),
    /// Collections of a community and who may read or write them
    #[command(subcommand)]
    Collection(CollectionCommand),
    /// Webhooks: URLs that receive the events an organisation may see
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Register a webhook; its signing secret is printed once
    Add {
        /// Organisation id or exact name
        #[arg(long)]
        org: String,
        #[arg(long)]
        url: String,
    },
    /// List an organisation's webhooks
    List {
        #[arg(long)]
        org: String,
    },
    /// Stop a webhook (by id)
    Remove { id: String },
}

#[derive(Subcommand)]
enum CommunityCommand {
    /// Create a community, served at /taxii2/<ID>/
    Create {
        /// 2 to 64 of a-z, 0-9 and -, e.g. eu-ras
        #[arg(long)]
        id: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List communities
    List,
    /// A community with its members and collections
    Show { id: String },
    /// Make an organisation a member (it then receives GREEN objects)
    AddMember {
        id: String,
        /// Organisation id or exact name
        #[arg(long)]
        org: String,
    },
    /// Remove an organisation from a community
    RemoveMember {
        id: String,
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum CollectionCommand {
    /// Create a collection in a community
    Create {
        #[arg(long)]
        community: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        alias: Option<String>,
        /// TLP of unmarked objects: clear, green, amber, amber+strict, red
        #[arg(long, default_value = "amber")]
        default_tlp: String,
    },
    /// A collection with its grants
    Show { id: String },
    /// Create a read-only collection with the DISARM framework (shipped,
    /// CC BY-SA 4.0) in a community, readable by its current members
    LoadDisarm {
        #[arg(long)]
        community: String,
    },
    /// Set what an organisation or a user may do in a collection; without
    /// --read or --write the grantee loses its rights
    Grant {
        id: String,
        /// Organisation id or exact name
        #[arg(long, conflicts_with = "user", required_unless_present = "user")]
        org: Option<String>,
        /// Username or user id
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        read: bool,
        #[arg(long)]
        write: bool,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation
    Create {
        #[arg(long)]
        name: String,
        /// national_contact_point, eu_institution, election_management_body, regulator,
        /// fact_checker, civil_society, observer, publisher_or_sponsor, research
        #[arg(long)]
        kind: String,
        /// Two-letter country code (EU for EU-level bodies)
        #[arg(long)]
        country: Option<String>,
    },
    /// List organisations
    List,
    /// Change an organisation (by id)
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        /// Two-letter code; an empty string clears it
        #[arg(long)]
        country: Option<String>,
        /// active or disabled
        #[arg(long)]
        status: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input with
    /// --password-stdin, otherwise a random one is generated and printed once
    Create {
        /// Organisation id or exact name
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        /// A role (repeat for several); see `vigil admin roles`
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users
    List {
        /// Only users of this organisation id
        #[arg(long)]
        org: Option<String>,
    },
    /// Replace a user's roles
    SetRoles {
        /// Username or user id
        user: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Set a user's password (read from standard input, or generated and printed)
    SetPassword {
        user: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user (ends their sessions; tokens stop working)
    Disable { user: String },
    /// Enable a disabled user
    Enable { user: String },
    /// Erase a user's personal data (display name, e-mail) for good
    Redact { user: String },
    /// Choose the TLP marking ids the user's TAXII client receives
    SetTlpProfile {
        user: String,
        /// oasis (TLP 2.0, default) or compat (TLP 1.0 ids and OpenCTI's
        /// AMBER+STRICT, for OpenCTI and MISP)
        #[arg(long)]
        profile: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for a user; the secret is printed once
    Create {
        /// Username or user id
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// Lifetime such as 90d, 12h (default: no expiry)
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// List a user's tokens
    List {
        #[arg(long)]
        user: String,
    },
    /// Revoke a token by id
    Revoke { id: String },
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn cli_error(e: ApiError) -> anyhow::Error {
    match e {
        ApiError::Invalid { fields, .. } if !fields.is_empty() => {
            let lines: Vec<String> = fields
                .iter()
                .map(|f| format!("  {}: {}", f.field, f.message))
                .collect();
            anyhow!("invalid input:\n{}", lines.join("\n"))
        }
        ApiError::Invalid { message, .. } => anyhow!("invalid input: {message}"),
        ApiError::Internal(cause) => cause,
        other => anyhow!("{other}"),
    }
}

fn read_or_generate_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok((line.trim_end_matches(['\r', '\n']).to_string(), false));
    }
    let bytes = vigil_server::core::secrets::random_bytes::<18>()?;
    Ok((
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes),
        true,
    ))
}

async fn resolve_user(db: &Db, user: &str) -> anyhow::Result<String> {
    if UserId::parse(user).is_some() {
        return Ok(user.to_string());
    }
    store::user_by_username(db.pool(), user)
        .await?
        .map(|u| u.user.id.to_string())
        .ok_or_else(|| anyhow!("no user {user:?}"))
}

pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let settings = args.store.settings(ConfigLayer::default())?;
    let (db, ledger) = open_store(&settings).await?;
    let actor = Actor::CommandLine;
    match args.command {
        AdminCommand::Org(command) => match command {
            OrgCommand::Create {
                name,
                kind,
                country,
            } => {
                let org = service::create_organisation(
                    &db,
                    &actor,
                    NewOrganisation {
                        name,
                        kind,
                        country,
                    },
                )
                .await
                .map_err(cli_error)?;
                print_json(&org)?;
            }
            OrgCommand::List => print_json(&store::organisations(db.pool()).await?)?,
            OrgCommand::Update {
                id,
                name,
                country,
                status,
            } => {
                let changes = OrganisationChanges {
                    name,
                    country: country.map(|c| if c.is_empty() { None } else { Some(c) }),
                    status,
                };
                print_json(
                    &service::update_organisation(&db, &actor, &id, changes)
                        .await
                        .map_err(cli_error)?,
                )?;
            }
        },
        AdminCommand::User(command) => match command {
            UserCommand::Create {
                org,
                username,
                roles,
                display_name,
                email,
                password_stdin,
            } => {
                let (password, generated) = read_or_generate_password(password_stdin)?;
                let user = service::create_user(
                    &db,
                    &actor,
                    NewUser {
                        organisation: org,
                        username,
                        password: password.clone(),
                        roles,
                        display_name,
                        email,
                    },
                )
                .await
                .map_err(cli_error)?;
                print_json(&user)?;
                if generated {
                    eprintln!("Password (shown once): {password}");
                }
            }
            UserCommand::List { org } => {
                let org = org
                    .as_deref()
                    .and_then(vigil_server::core::ids::OrganisationId::parse);
                print_json(&store::users(db.pool(), org.as_ref()).await?)?;
            }
            UserCommand::SetRoles { user, roles } => {
                let id = resolve_user(&db, &user).await?;
                let changes = UserChanges {
                    roles: Some(roles),
                    ..UserChanges::default()
                };
                print_json(
                    &service::update_user(&db, &actor, &id, changes)
                        .await
                        .map_err(cli_error)?,
                )?;
            }
            UserCommand::SetPassword {
                user,
                password_stdin,
            } => {
                let id = resolve_user(&db, &user).await?;
                let (password, generated) = read_or_generate_password(password_stdin)?;
                service::set_password(&db, &actor, &id, &password)
                    .await
                    .map_err(cli_error)?;
                if generated {
                    eprintln!("Password (shown once): {password}");
                }
                println!("password changed for {user}");
            }
            UserCommand::Disable { user } => set_status(&db, &actor, &user, "disabled").await?,
            UserCommand::Enable { user } => set_status(&db, &actor, &user, "active").await?,
            UserCommand::SetTlpProfile { user, profile } => {
                let id = resolve_user(&db, &user).await?;
                alerts::set_tlp_profile(&db, &actor, &id, &profile)
                    .await
                    .map_err(cli_error)?;
                println!("{user} now receives TLP markings in the {profile} profile");
            }
            UserCommand::Redact { user } => {
                let id = resolve_user(&db, &user).await?;
                print_json(
                    &service::redact_user(&db, &actor, &id)
                        .await
                        .map_err(cli_error)?,
                )?;
            }
        },
        AdminCommand::Token(command) => match command {
            TokenCommand::Create {
                user,
                name,
                expires_in,
            } => {
                let id = resolve_user(&db, &user).await?;
                let lifetime = expires_in
                    .as_deref()
                    .map(|t| {
                        parse_duration(t).ok_or_else(|| {
                            anyhow!("--expires-in {t:?}: use a duration such as 90d, 12h or 30m")
                        })
                    })
                    .transpose()?;
                let (token, secret) = service::create_token(&db, &actor, &id, &name, lifetime)
                    .await
                    .map_err(cli_error)?;
                print_json(&token)?;
                eprintln!(
                    "Token (shown once; use as a Bearer token or as the Basic password): {secret}"
                );
            }
            TokenCommand::List { user } => {
                let id = resolve_user(&db, &user).await?;
                print_json(&store::tokens_of(db.pool(), &UserId::from_stored(id)).await?)?;
            }
            TokenCommand::Revoke { id } => {
                print_json(
                    &service::revoke_token(&db, &actor, &id, None)
                        .await
                        .map_err(cli_error)?,
                )?;
            }
        },
        AdminCommand::Audit { limit, action } => {
            print_json(&audit::recent(&db, limit, action.as_deref()).await?)?
        }
        AdminCommand::Roles => {
            for role in ROLE_CATALOGUE {
                println!("{:<14} {}", role.name, role.description);
            }
        }
        AdminCommand::Community(command) => community(&db, &actor, command).await?,
        AdminCommand::Collection(command) => collection(&db, &actor, command).await?,
        AdminCommand::Webhook(command) => webhook(&db, &ledger, &actor, command).await?,
    }
    db.close().await;
    Ok(())
}

async fn set_status(db: &Db, actor: &Actor, user: &str, status: &str) -> anyhow::Result<()> {
    let id = resolve_user(db, user).await?;
    let changes = UserChanges {
        status: Some(status.to_string()),
        ..UserChanges::default()
    };
    print_json(
        &service::update_user(db, actor, &id, changes)
            .await
            .map_err(cli_error)?,
    )
}

pub async fn resolve_org(db: &Db, org: &str) -> anyhow::Result<String> {
    if let Some(found) = store::organisation(db.pool(), org).await? {
        return Ok(found.id.to_string());
    }
    store::organisation_by_name(db.pool(), org)
        .await?
        .map(|o| o.id.to_string())
        .ok_or_else(|| anyhow!("no organisation {org:?}"))
}

async fn community(db: &Db, actor: &Actor, command: CommunityCommand) -> anyhow::Result<()> {
    match command {
        CommunityCommand::Create {
            id,
            title,
            description,
        } => print_json(
            &alerts::create_community(db, actor, &id, &title, description)
                .await
                .map_err(cli_error)?,
        ),
        CommunityCommand::List => print_json(&alerts_store::communities(db.pool()).await?),
        CommunityCommand::Show { id } => {
            let found = alerts_store::community(db.pool(), &id)
                .await?
                .ok_or_else(|| anyhow!("no community {id:?}"))?;
            let members = alerts_store::members(db.pool(), &found.id).await?;
            let collections = alerts_store::collections_of(db.pool(), &found.id).await?;
            print_json(
                &serde_json::json!({"community": found, "members": members, "collections": collections}),
            )
        }
        CommunityCommand::AddMember { id, org } => {
            let org = resolve_org(db, &org).await?;
            print_json(
                &alerts::set_membership(db, actor, &id, &org, true)
                    .await
                    .map_err(cli_error)?,
            )
        }
        CommunityCommand::RemoveMember { id, org } => {
            let org = resolve_org(db, &org).await?;
            print_json(
                &alerts::set_membership(db, actor, &id, &org, false)
                    .await
                    .map_err(cli_error)?,
            )
        }
    }
}

async fn collection(db: &Db, actor: &Actor, command: CollectionCommand) -> anyhow::Result<()> {
    match command {
        CollectionCommand::Create {
            community,
            title,
            description,
            alias,
            default_tlp,
        } => print_json(
            &alerts::create_collection(
                db,
                actor,
                &community,
                NewCollection {
                    title,
                    description,
                    alias,
                    default_tlp: Some(default_tlp),
                },
            )
            .await
            .map_err(cli_error)?,
        ),
        CollectionCommand::Show { id } => {
            let found = alerts_store::collection(db.pool(), &id)
                .await?
                .ok_or_else(|| anyhow!("no collection {id:?}"))?;
            let grants = alerts_store::grants_of(db.pool(), &found.id).await?;
            print_json(&serde_json::json!({"collection": found, "grants": grants}))
        }
        CollectionCommand::LoadDisarm { community } => print_json(
            &alerts::load_disarm(db, actor, &community)
                .await
                .map_err(cli_error)?,
        ),
        CollectionCommand::Grant {
            id,
            org,
            user,
            read,
            write,
        } => {
            let grantee = match (org, user) {
                (Some(org), _) => resolve_org(db, &org).await?,
                (None, Some(user)) => resolve_user(db, &user).await?,
                (None, None) => {
                    return Err(anyhow!("name an organisation (--org) or a user (--user)"));
                }
            };
            print_json(
                &alerts::set_grant(db, actor, &id, &grantee, read, write)
                    .await
                    .map_err(cli_error)?,
            )
        }
    }
}

async fn webhook(
    db: &Db,
    ledger: &vigil_server::core::ledger::Ledger,
    actor: &Actor,
    command: WebhookCommand,
) -> anyhow::Result<()> {
    use vigil_server::alerts::webhooks;
    match command {
        WebhookCommand::Add { org, url } => {
            let org = resolve_org(db, &org).await?;
            let (hook, secret) = webhooks::add_webhook(db, ledger, actor, &org, &url)
                .await
                .map_err(cli_error)?;
            print_json(&hook)?;
            eprintln!(
                "Signing secret (shown once; X-Vigil-Signature is sha256=HMAC-SHA-256 of the body): {secret}"
            );
            Ok(())
        }
        WebhookCommand::List { org } => {
            let org =
                vigil_server::core::ids::OrganisationId::from_stored(resolve_org(db, &org).await?);
            print_json(
                &webhooks::webhooks(db, Some(&org))
                    .await
                    .map_err(cli_error)?,
            )
        }
        WebhookCommand::Remove { id } => print_json(
            &webhooks::remove_webhook(db, actor, &id)
                .await
                .map_err(cli_error)?,
        ),
    }
}
